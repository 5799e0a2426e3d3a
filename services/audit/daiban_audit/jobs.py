"""The checkpoint timer: on a quiet node, entries not yet covered still get a checkpoint in time; the
official schedules, into the process calendar at start and now and then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from daiban_audit.context import AuditContext
from daiban_audit.handlers.ledger import sign_overdue_checkpoint
from daiban_common.runtime import ServiceRuntime
from daiban_common.schedules import schedule_job
from daiban_common.service import Job


def jobs(runtime: ServiceRuntime) -> Sequence[Job]:
    context = cast(AuditContext, runtime.context)
    # Ticking at a fraction of the interval keeps a checkpoint at most that fraction late.
    tick = min(context.settings.checkpoint_interval_seconds / 2, 30.0)

    async def sign_overdue() -> None:
        await sign_overdue_checkpoint(context, runtime.uow())

    return [Job(name="checkpoint-timer", every=tick, run=sign_overdue), schedule_job(runtime)]
