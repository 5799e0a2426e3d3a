"""What the catalogue's routes and handlers share, built once per process: whose items it holds,
and the time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, cast

from fastapi import Depends, Request

from daiban_common.calendar import today_in_shanghai
from daiban_common.deps import get_runtime
from daiban_common.runtime import ServiceRuntime
from daiban_contracts.orgcodes import OrgCode, Tier


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CatalogueContext:
    """The org units whose items this node's catalogue holds, and its clock."""

    known_orgs: frozenset[str]
    clock: Callable[[], datetime] = field(default=_utc_now)

    @classmethod
    def for_node(cls, node: OrgCode) -> CatalogueContext:
        """A node's catalogue holds its county's items (the county node is the authority)."""
        return cls(known_orgs=frozenset({(node if node.tier is Tier.above_county else node.county).value}))

    @property
    def prefixes(self) -> list[str]:
        """Code prefixes of the org units this catalogue serves."""
        return [OrgCode(org).subtree_prefix for org in sorted(self.known_orgs)]

    def serves(self, org: OrgCode) -> bool:
        return any(org.value.startswith(prefix) for prefix in self.prefixes)

    def today(self) -> date:
        return today_in_shanghai(self.clock())


def build_context(runtime: ServiceRuntime) -> CatalogueContext:
    return CatalogueContext.for_node(runtime.node_org)


async def _context(request: Request) -> CatalogueContext:
    return cast(CatalogueContext, get_runtime(request).context)


ContextDep = Annotated[CatalogueContext, Depends(_context)]
