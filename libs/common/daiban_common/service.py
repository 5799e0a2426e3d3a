"""What a service declares about itself, so the platform can wire, migrate and seed it.

Each service package exposes one `SERVICE = ServiceSpec(...)` (entry point group
`daiban.services`). The CLI and the tests find services through it, so libs/common never imports a
service and no service imports another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from daiban_common.auth import KnownOrgs
    from daiban_common.consumer import Subscription
    from daiban_common.openapi import OpenApiExamples
    from daiban_common.runtime import ServiceRuntime

SERVICE_ORDER = ("catalogue", "intake", "routing", "audit")


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    description: str
    # Folder holding alembic's env.py and versions/.
    migrations: Path
    routers: Callable[[ServiceRuntime], Sequence[APIRouter]]
    subscriptions: Callable[[ServiceRuntime], Sequence[Subscription]] = field(default=lambda runtime: ())
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
    return {name: found[name] for name in sorted(found, key=_order)}


def _order(name: str) -> tuple[int, str]:
    return (SERVICE_ORDER.index(name) if name in SERVICE_ORDER else len(SERVICE_ORDER), name)
