"""The log line of a dead letter: one JSON line per parked event (daiban_common.jsonlog), so that
log search and alerting find it without SQL."""

from __future__ import annotations

import logging

from daiban_common.deadletters.rules import short_error
from daiban_common.identity import mask_text

log = logging.getLogger("daiban.dead_letters")


def log_parked(
    *,
    dead_letter_id: int | None,
    consumer: str,
    event_id: str | None,
    type: str | None,
    subject: str,
    org: str | None,
    reason: str,
) -> None:
    """Warn that an event was parked, with what identifies it and why (personal numbers masked:
    a validation error quotes the data it refused)."""
    log.warning(
        "dead letter: consumer %s parked event %s (%s)",
        consumer,
        event_id or "(unreadable)",
        type or "unknown type",
        extra={
            "dead_letter_id": dead_letter_id,
            "consumer": consumer,
            "event_id": event_id,
            "type": type,
            "subject": subject,
            "org": org,
            "reason": mask_text(short_error(reason)),
        },
    )
