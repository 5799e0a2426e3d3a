"""Events of a person settling a dead letter: replayed or discarded, for the audit log.

A dead letter is an event a consumer of some service could not apply, parked in that service's
own table. Every service has one, so every service publishes these two types: the payload names
the service whose dead letter it is, and the envelope's `actor` is the person who acted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from daiban_contracts.envelope import EventData, event_type

__all__ = ["PUBLISHED_BY_EVERY_SERVICE", "DeadLetterDiscarded", "DeadLetterReplayed", "ReplayOutcome"]

ReplayOutcome = Literal["applied", "duplicate", "failed"]


class _DeadLetterFact(EventData):
    service: str = Field(description="The service whose dead letter it is, e.g. intake")
    dead_letter_id: int = Field(ge=1, description="The dead letter's id in that service")
    consumer: str = Field(description="The durable consumer that parked the event")
    parked_event_id: str | None = Field(description="The parked event's id (null if unreadable)")
    parked_type: str | None = Field(description="The parked event's type (null if unreadable)")


@event_type("daiban.deadletter.replayed.v1")
class DeadLetterReplayed(_DeadLetterFact):
    """A person ran a parked event through its consumer again (applied, already applied, or failed)."""

    outcome: ReplayOutcome
    corrected: bool = Field(description="Whether the event was replayed with corrected data or envelope")
    error: str | None = Field(default=None, description="Why the replay failed (outcome `failed`)")


@event_type("daiban.deadletter.discarded.v1")
class DeadLetterDiscarded(_DeadLetterFact):
    """A person decided a parked event will never be applied, and said why."""

    reason: str = Field(min_length=1, max_length=500, description="Why, in Chinese")


# Not owned by one service: any service's identity may publish them for its own dead letters.
PUBLISHED_BY_EVERY_SERVICE: tuple[type[EventData], ...] = (DeadLetterReplayed, DeadLetterDiscarded)
