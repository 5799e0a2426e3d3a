"""What intake's routes and consumers share, built once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from daiban_common.calendar import WorkCalendar, default_calendar
from daiban_common.deps import get_runtime
from daiban_common.orgunits import CachedKeySet
from daiban_common.runtime import ServiceRuntime
from daiban_common.staffdir import replica_staff
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain.links import LinkSigner, link_key
from daiban_intake.handlers.acceptance import AcceptancePoint


@dataclass(frozen=True)
class IntakeContext:
    # This node's org: complaints name org units within it.
    node: OrgCode
    # Where this node accepts (node, PII salt, child nodes, known orgs, parsed item versions).
    acceptance: AcceptancePoint
    # Whose cases this node follows: its subtree, less the org units running a node of their own.
    hosts: Callable[[OrgCode], bool]
    # Working days, for the rectification a dissatisfied rating opens.
    calendar: WorkCalendar
    # Signs the links to the printable pages, which a browser tab opens without a token.
    links: LinkSigner
    # The directory's staff (`org/staff_id`): who may act for the administration here.
    staff: CachedKeySet


def build_context(runtime: ServiceRuntime) -> IntakeContext:
    settings = runtime.settings
    calendar = default_calendar()
    return IntakeContext(
        node=runtime.node_org,
        acceptance=AcceptancePoint(
            node=runtime.node_org,
            salt=settings.resolved_pii_salt(),
            calendar=calendar,
            child_nodes=tuple(OrgCode.parse(code) for code in settings.child_nodes),
            known_orgs=runtime.known_orgs,
        ),
        hosts=settings.hosts,
        calendar=calendar,
        links=LinkSigner(link_key(settings.resolved_jwt_secret())),
        staff=replica_staff(runtime.engine, runtime.spec.schema),
    )


async def _context(request: Request) -> IntakeContext:
    return cast(IntakeContext, get_runtime(request).context)


ContextDep = Annotated[IntakeContext, Depends(_context)]
