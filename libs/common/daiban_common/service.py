"""What a service declares about itself: the whole of it, so the platform can wire, migrate,
seed, start and place it.

Each service package exposes one `SERVICE = ServiceSpec(...)` (entry point group
`daiban.services`). The CLI, the tier planner, the tests and the benchmarks find services through
it and nothing else, so libs/common never imports a service, no service imports another, and no
list of service names exists anywhere: a new service is its folder, its pyproject and one line in
the workspace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from daiban_common.auth import KnownOrgs
    from daiban_common.consumer import Subscription
    from daiban_common.openapi import OpenApiExamples
    from daiban_common.runtime import ServiceRuntime


@dataclass(frozen=True)
class Job:
    """Periodic work of a service (a sweep, a checkpoint timer), run by the runtime: `run()` every
    `every` seconds, the first time `every` seconds after start (at once with `at_start`, for
    state the service needs before it counts on it); a failed run is logged and the next one comes
    on time; stopping the service cancels it."""

    name: str
    every: float
    run: Callable[[], Awaitable[None]]
    at_start: bool = False


def _none(runtime: ServiceRuntime) -> None:
    return None


def _no_subscriptions(runtime: ServiceRuntime) -> Sequence[Subscription]:
    return ()


def _no_jobs(runtime: ServiceRuntime) -> Sequence[Job]:
    return ()


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    # Folder holding alembic's env.py and versions/.
    migrations: Path
    # Port of `daiban serve <name>` unless DAIBAN_<NAME>_PORT says otherwise; unique per service.
    default_port: int
    # Services are migrated, seeded and started in ascending order (a seed may read what an
    # earlier service's seed wrote, e.g. intake's replica of the catalogue).
    order: int
    # Module-level routers; what a route needs of the process comes from the context (ContextDep).
    routers: Sequence[APIRouter]
    # Whether a township node runs the service (the catalogue is the county's alone).
    township: bool = True
    # What the service's routes, consumers and jobs share, built once per process from the
    # runtime (settings, policies, caches): `runtime.context`.
    context: Callable[[ServiceRuntime], object] = _none
    subscriptions: Callable[[ServiceRuntime], Sequence[Subscription]] = _no_subscriptions
    jobs: Callable[[ServiceRuntime], Sequence[Job]] = _no_jobs
    seed: Callable[[ServiceRuntime], Awaitable[None]] | None = None
    # How the service knows its county's org units (tokens of other units are refused); None:
    # only the static checks (the county's subtree) apply.
    known_orgs: Callable[[ServiceRuntime], KnownOrgs] | None = None
    version: str = "0.1.0"
    openapi_tags: Sequence[dict[str, str]] = ()
    # Example request and response bodies for the OpenAPI document (see daiban_common.openapi).
    openapi_examples: OpenApiExamples | None = None

    @property
    def schema(self) -> str:
        return self.name


def discover_services() -> dict[str, ServiceSpec]:
    """Installed services by name, in the order they should be migrated and started."""
    found: dict[str, ServiceSpec] = {}
    for ep in entry_points(group="daiban.services"):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {ep.name} does not point at a ServiceSpec")
        found[spec.name] = spec
    return {spec.name: spec for spec in sorted(found.values(), key=lambda spec: (spec.order, spec.name))}
