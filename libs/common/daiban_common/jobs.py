"""Runs a service's periodic jobs (`ServiceSpec.jobs`) beside its HTTP server and consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from daiban_common.faults import is_unavailable
from daiban_common.service import Job

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, service: str, jobs: Sequence[Job]) -> None:
        self._service = service
        self._jobs = list(jobs)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"{self._service}-job-{job.name}") for job in self._jobs
        ]

    async def _loop(self, job: Job) -> None:
        first = True
        while True:
            if not (first and job.at_start):
                await asyncio.sleep(job.every)
            first = False
            try:
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A job is retried at its next tick either way; an outage is no bug worth a trace.
                if is_unavailable(exc):
                    log.warning("job %s/%s: a server is unavailable (%s)", self._service, job.name, exc)
                else:
                    log.exception("job %s/%s failed", self._service, job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
