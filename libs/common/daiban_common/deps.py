"""FastAPI dependencies shared by every service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork


def get_runtime(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def get_uow(request: Request) -> UnitOfWork:
    return get_runtime(request).uow()


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
