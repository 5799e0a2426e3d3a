"""The checkpoint timer: on a quiet node, entries not yet covered still get a checkpoint in time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from daiban_audit.context import audit_context
from daiban_audit.handlers.ledger import sign_checkpoint_if_due
from daiban_common.runtime import ServiceRuntime

log = logging.getLogger(__name__)


async def run_checkpoint_timer(runtime: ServiceRuntime) -> None:
    ctx = audit_context(runtime)
    # Ticking at a fraction of the interval keeps a checkpoint at most that fraction late.
    tick = min(ctx.settings.checkpoint_interval_seconds / 2, 30.0)
    while True:
        await asyncio.sleep(tick)
        try:
            async with runtime.uow() as uow:
                if await sign_checkpoint_if_due(ctx, uow, by_time=True) is not None:
                    await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database may be away for a moment; the next tick tries again.
            log.exception("checkpoint timer failed")


def timer_router(runtime: ServiceRuntime) -> APIRouter:
    """A router without routes whose lifespan runs the timer while the service runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(run_checkpoint_timer(runtime), name="audit-checkpoint-timer")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return APIRouter(lifespan=lifespan)
