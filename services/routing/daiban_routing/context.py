"""What routing's routes, consumers, jobs and seed share, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Request

from daiban_common.deps import get_runtime
from daiban_common.runtime import ServiceRuntime
from daiban_routing.domain.supervision import Policy
from daiban_routing.queries.supervision import OpenLimits
from daiban_routing.settings import RoutingSettings


@dataclass(frozen=True)
class RoutingContext:
    settings: RoutingSettings
    # The supervision thresholds, read from the settings once: the flags list and the sweep agree.
    policy: Policy
    limits: OpenLimits = field(default_factory=OpenLimits)


def build_context(runtime: ServiceRuntime) -> RoutingContext:
    settings = RoutingSettings()
    return RoutingContext(settings=settings, policy=settings.policy)


async def _context(request: Request) -> RoutingContext:
    return cast(RoutingContext, get_runtime(request).context)


ContextDep = Annotated[RoutingContext, Depends(_context)]
