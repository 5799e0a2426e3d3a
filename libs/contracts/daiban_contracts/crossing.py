"""What crosses between the nodes of a county: the contract of the tier network.

Every node (the county's, and each township's that runs its own) stores in its own stream the
events addressed into its subtree and nothing else (`Subjects.node_stream`). An event addressed to
another node's org is published across the link and stored there: a forward up to the county, a
result sent down, an acknowledgement, a signed checkpoint. What a node needs of the events
addressed elsewhere it receives as a **copy**, written by the emitting node into its outbox with
the event itself (same id, same envelope) and addressed to the receiving node's org:

| copy | from | to | which events |
|---|---|---|---|
| progress | the node that moved a case | the node hosting its accepting org | `FOLLOWED_BY_ACCEPTING_NODE` |
| countywide | a township node | the county node | `COLLECTED_BY_COUNTY` |
| published | the county node | every township node | `PUBLISHED_TO_TOWNSHIPS` |

The tables are the contract: a consumer reading copies (daiban_common.consumer.Subscription.copies)
receives exactly these, and a township's leaf connection may carry nothing else
(`leaf_permissions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from daiban_contracts.calendar import CalendarYearPublished
from daiban_contracts.case import (
    CaseAccepted,
    CaseEvaluated,
    ComplaintFiled,
    OneTimeNoticeIssued,
    RectificationOpened,
)
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.directory import OrgUnitsPublished, StaffChanged, StaffPublished
from daiban_contracts.envelope import EventData, type_parts
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.ownership import Service, owned_by
from daiban_contracts.routing import (
    CaseAssigned,
    CaseDecided,
    CaseDueRecomputed,
    CaseEscalated,
    CaseExtended,
    CaseForwarded,
    CasePaused,
    CaseReadyForHandover,
    CaseReceived,
    CaseResumed,
    CaseReturnedDown,
    SupervisionFlagCleared,
    SupervisionFlagRaised,
    SupplementRequested,
    TaskClaimed,
)
from daiban_contracts.subjects import CopyKind, Subjects

# Routing's moves of a case that the point which accepted it shows as progress.
FOLLOWED_BY_ACCEPTING_NODE: tuple[type[EventData], ...] = (
    CaseForwarded,
    CaseReceived,
    CaseAssigned,
    TaskClaimed,
    CaseDecided,
    SupplementRequested,
    CasePaused,
    CaseResumed,
    CaseExtended,
    CaseDueRecomputed,
    CaseEscalated,
    CaseReturnedDown,
    CaseReadyForHandover,
    SupervisionFlagRaised,
    SupervisionFlagCleared,
)

# What the county's statistics and reports count for every township, and the staff directory the
# county's services name people from, from township nodes.
COLLECTED_BY_COUNTY: tuple[type[EventData], ...] = (
    CaseAccepted,
    CaseForwarded,
    CaseAssigned,
    OneTimeNoticeIssued,
    SupplementRequested,
    CaseDecided,
    CaseEvaluated,
    ComplaintFiled,
    RectificationOpened,
    StaffChanged,
)

# What the county publishes for the whole county: township nodes keep replicas of it.
PUBLISHED_TO_TOWNSHIPS: tuple[type[EventData], ...] = (
    ItemPublished,
    CalendarYearPublished,
    OrgUnitsPublished,
    StaffPublished,
    StaffChanged,
)

_TYPES = {
    CopyKind.progress: frozenset(c.event_type for c in FOLLOWED_BY_ACCEPTING_NODE),
    CopyKind.countywide: frozenset(c.event_type for c in COLLECTED_BY_COUNTY),
    CopyKind.published: frozenset(c.event_type for c in PUBLISHED_TO_TOWNSHIPS),
}
# A case number begins with the code of the org unit that accepted the case.
_CASE_NUMBER = re.compile(r"^(?P<org>[0-9]{12})-[0-9]{8}-[0-9]{4,}$")


def copied_as(kind: CopyKind, event_type: str) -> bool:
    """Whether events of `event_type` are copied for the reason `kind`."""
    return event_type in _TYPES[kind]


def copy_types(kind: CopyKind) -> frozenset[str]:
    return _TYPES[kind]


def accepting_org(case_number: str) -> OrgCode | None:
    """The org unit that accepted a case, read off its number (None for a subject of another kind)."""
    found = _CASE_NUMBER.fullmatch(case_number)
    return OrgCode.parse(found["org"]) if found else None


@dataclass(frozen=True)
class Topology:
    """One node's view of the network: its org, the township nodes below it, and (for a township
    node) the county node above it."""

    node_org: OrgCode
    child_nodes: tuple[OrgCode, ...] = ()

    @classmethod
    def of(cls, node_org: str | OrgCode, child_nodes: Iterable[str | OrgCode] = ()) -> Topology:
        def parse(org: str | OrgCode) -> OrgCode:
            return org if isinstance(org, OrgCode) else OrgCode.parse(org)

        return cls(parse(node_org), tuple(parse(child) for child in child_nodes))

    @property
    def parent_node(self) -> OrgCode | None:
        """The county node above a township node (None at the county)."""
        return None if self.node_org.tier is Tier.county else self.node_org.county

    def node_of(self, org: OrgCode) -> OrgCode:
        """The node that hosts `org`, as far as this node knows: itself, one of its child nodes, or
        (for whatever lies outside its subtree) its parent node."""
        for child in self.child_nodes:
            if org.is_within(child):
                return child
        if org.is_within(self.node_org):
            return self.node_org
        return self.parent_node or self.node_org

    def copies(self, event_type: str, org: OrgCode, subject: str) -> list[tuple[OrgCode, CopyKind]]:
        """The copies this node sends of an event it emits: (the receiving node's org, kind).

        `org` is the org the event is addressed to, whose node stores the event itself; `subject`
        is the envelope's (a case number for routing's events).
        """
        found: list[tuple[OrgCode, CopyKind]] = []
        if copied_as(CopyKind.progress, event_type) and (accepted_at := accepting_org(subject)):
            # Always, even to this node itself: an intake reads its cases' progress from these
            # copies only, so no node ever receives a move of a case it did not accept.
            found.append((self.node_of(accepted_at), CopyKind.progress))
        parent = self.parent_node
        if parent is not None and copied_as(CopyKind.countywide, event_type) and self.node_of(org) != parent:
            found.append((parent, CopyKind.countywide))
        if copied_as(CopyKind.published, event_type):
            found.extend(
                (child, CopyKind.published) for child in self.child_nodes if not org.is_within(child)
            )
        return found


@dataclass(frozen=True)
class LeafPermissions:
    """What a township's leaf connection may send to the county's hub and receive from it."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


# The services a township node runs; catalogue stays at the county.
_TOWNSHIP_SERVICES = (Service.intake, Service.routing, Service.audit)


def leaf_permissions(subjects: Subjects, township: OrgCode) -> LeafPermissions:
    """Up: the event types a township node's services own (never the catalogue's), addressed to
    the county's own org (forwards, acknowledgements, supplements, checkpoints, the directory a
    township node publishes for its county), and the countywide copies, type by type.
    Down: whatever is addressed into the township's subtree, copies included. `_INBOX.>` carries
    the stream's acknowledgements both ways."""
    county = township.county
    prefix = f"{subjects.root}.{county.subject_tokens}"
    up: list[str] = []
    for service in _TOWNSHIP_SERVICES:
        for type_name in owned_by(service):
            aggregate, event, _ = type_parts(type_name)
            up.append(f"{prefix}.{aggregate}.{event}")
    for event_class in COLLECTED_BY_COUNTY:
        aggregate, event, _ = type_parts(event_class.event_type)
        up.append(f"{prefix}.copy.{CopyKind.countywide.value}.{aggregate}.{event}")
    return LeafPermissions(
        publish=(*sorted(up), "_INBOX.>"),
        subscribe=(f"{subjects.root}.{county.county6}.{township.township3}.>", "_INBOX.>"),
    )


__all__ = [
    "COLLECTED_BY_COUNTY",
    "FOLLOWED_BY_ACCEPTING_NODE",
    "PUBLISHED_TO_TOWNSHIPS",
    "CopyKind",
    "LeafPermissions",
    "Topology",
    "accepting_org",
    "copied_as",
    "copy_types",
    "leaf_permissions",
]
