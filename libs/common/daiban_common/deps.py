"""FastAPI dependencies shared by every service's routes.

Dependencies are `async def` even when they only read app state: FastAPI runs a plain `def`
dependency in its thread pool, a thread hop and a lock or two per request for an attribute read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork


def get_runtime(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


async def _runtime(request: Request) -> ServiceRuntime:
    return get_runtime(request)


RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]


async def get_uow(request: Request) -> UnitOfWork:
    return get_runtime(request).uow()


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
