"""Intake's periodic work: the official schedules, into the process calendar at start and now and then."""

from __future__ import annotations

from collections.abc import Sequence

from daiban_common.runtime import ServiceRuntime
from daiban_common.schedules import schedule_job
from daiban_common.service import Job


def jobs(runtime: ServiceRuntime) -> Sequence[Job]:
    return [schedule_job(runtime)]
