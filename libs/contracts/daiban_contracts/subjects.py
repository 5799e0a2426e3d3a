"""Where events travel: one value builds every subject we publish to and every filter we read with.

A subject is `<root>.<county6>.<township3>.<village3>.<aggregate>.<event>`, e.g.
`daiban.370285.101.201.case.accepted`: the org the event concerns, then its type without the
version. `root` is `DAIBAN_SUBJECT_ROOT` ("daiban" unless a deployment or a test keeps several
networks on one server). Filters follow the tiers: a township's subtree is `daiban.370285.101.>`.

A copy of an event for another node (daiban_contracts.crossing) is addressed to an org of that
node and says what kind of copy it is: `daiban.370285.101.000.copy.progress.case.decided`. Copies
have two tokens more than events, so a filter for events (`daiban.370285.*.*.case.decided`, or the
catch-all `daiban.370285.*.*.*.*`) never takes a copy: a consumer reads copies only where it asks.
What an outside system pushes (daiban_contracts.ingress) has the same shape with `ingress.<system>`
in place of `copy.<kind>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from daiban_contracts.envelope import Envelope, EventData, type_parts
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier

_ROOT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Org tokens in a subject (county6, township3, village3) an org's subtree fixes; the rest are `*`.
_FIXED_TOKENS = {Tier.county: 1, Tier.township: 2, Tier.village: 3}
# Every township token a county can have: a stream of a county node with township nodes below it
# lists the ones it keeps (NATS subjects have no "all but").
_TOWNSHIP_TOKENS = [f"{n:03d}" for n in range(1000)]


class CopyKind(StrEnum):
    """Why a node sends another node a copy of one of its events (daiban_contracts.crossing)."""

    # Routing's moves of a case, to the node whose intake accepted it and shows its progress.
    progress = "progress"
    # What the county's statistics and directory need from a township node.
    countywide = "countywide"
    # The county's publications (catalogue, directory, calendar), to every township node.
    published = "published"


@dataclass(frozen=True)
class Subjects:
    root: str = "daiban"

    def __post_init__(self) -> None:
        if not _ROOT.fullmatch(self.root):
            raise ValueError(f"subject root must match {_ROOT.pattern}, got {self.root!r}")

    @property
    def stream(self) -> list[str]:
        """The subjects of the stream holding a whole network's events (a node without others)."""
        return [f"{self.root}.>"]

    def node_stream(self, org: str | OrgCode, child_nodes: Iterable[str | OrgCode] = ()) -> list[str]:
        """The subjects a node's own stream holds: its subtree, less its child nodes' subtrees.

        Each subject space is owned by exactly one node's stream, so an event published anywhere
        in the network is stored once, by the node it is addressed to. A county node also keeps
        what it addresses to its parent (its signed checkpoints): the network ends at the county.
        """
        code = _org(org)
        children = [_org(child) for child in child_nodes]
        if code.tier is Tier.township and not children:
            return [f"{self.root}.{code.county6}.{code.township3}.>"]
        if code.tier is not Tier.county:
            raise InvalidOrgCode(f"区划代码{code.value}不是县级或乡镇级单位，不能作为节点")
        above = [f"{self.root}.{parent.subject_tokens}.>"] if (parent := code.parent) is not None else []
        if not children:
            return [f"{self.root}.{code.county6}.>", *above]
        if any(child.tier is not Tier.township or not child.is_within(code) for child in children):
            raise InvalidOrgCode(f"{code.value}的下级节点须是其下的乡镇")
        away = {child.township3 for child in children}
        own = [f"{self.root}.{code.county6}.{token}.>" for token in _TOWNSHIP_TOKENS if token not in away]
        return [*own, *above]

    def of(self, envelope: Envelope) -> str:
        """The subject `envelope` is published to."""
        return self.of_type(envelope.type, envelope.org)

    def of_type(self, type_name: str, org: str) -> str:
        """The subject an event of `type_name` about `org` is published to."""
        aggregate, event, _ = type_parts(type_name)
        return f"{self.root}.{OrgCode.parse(org).subject_tokens}.{aggregate}.{event}"

    def at(self, org: str | OrgCode, event: type[EventData]) -> str:
        """Events of one type about exactly `org` (e.g. checkpoints addressed to a parent node)."""
        aggregate, name, _ = type_parts(event.event_type)
        return f"{self.root}.{_org(org).subject_tokens}.{aggregate}.{name}"

    def within(self, org: str | OrgCode, event: type[EventData] | None = None) -> str:
        """A filter for the events (of one type, or all) about `org` and every unit below it.

        Copies for other nodes are not events of the subtree: the filter never matches one.
        """
        code = _org(org)
        fixed = _FIXED_TOKENS.get(code.tier)
        if fixed is None:
            # NATS wildcards match whole tokens only, and "3702" is part of the county6 token.
            raise InvalidOrgCode(f"区划代码{code.value}是县级以上单位，无法用一个主题过滤其下级")
        tokens = code.subject_tokens.split(".")[:fixed]
        if event is None:
            return ".".join([self.root, *tokens, *["*"] * (3 - fixed), "*", "*"])
        aggregate, name, _ = type_parts(event.event_type)
        return ".".join([self.root, *tokens, *["*"] * (3 - fixed), aggregate, name])

    @staticmethod
    def message_id(event_id: str, subject: str) -> str:
        """The `Nats-Msg-Id` of a publish: the event's id, and for a copy the id and what the copy
        is, because a node's stream may hold an event and its copy for that node's intake, and
        JetStream would drop the second as a duplicate of the first."""
        _, marker, copy = subject.partition(".copy.")
        return f"{event_id}+{copy}" if marker else event_id

    def ingress(self, org: str | OrgCode, system: str, event_type: str | type[EventData]) -> str:
        """Where outside system `system` pushes an event of `event_type` about `org`
        (daiban_contracts.ingress): `daiban.370285.101.294.ingress.jiangshan-hall.case.supplemented`."""
        type_name = event_type if isinstance(event_type, str) else event_type.event_type
        aggregate, name, _ = type_parts(type_name)
        return f"{self.root}.{_org(org).subject_tokens}.ingress.{system}.{aggregate}.{name}"

    def ingress_within(
        self, org: str | OrgCode, system: str = "*", event_type: str | type[EventData] | None = None
    ) -> str:
        """A filter for what outside systems (one, or all) push about `org`'s subtree."""
        code = _org(org)
        fixed = _FIXED_TOKENS.get(code.tier)
        if fixed is None:
            raise InvalidOrgCode(f"区划代码{code.value}是县级以上单位，无法用一个主题过滤其下级")
        tokens = [*code.subject_tokens.split(".")[:fixed], *["*"] * (3 - fixed)]
        if event_type is None:
            return ".".join([self.root, *tokens, "ingress", system, "*", "*"])
        type_name = event_type if isinstance(event_type, str) else event_type.event_type
        aggregate, name, _ = type_parts(type_name)
        return ".".join([self.root, *tokens, "ingress", system, aggregate, name])

    def copy(self, org: str | OrgCode, kind: CopyKind, event_type: str | type[EventData]) -> str:
        """Where a copy of an event of `event_type` for the node of `org` is published; also the
        filter that node reads such copies with."""
        type_name = event_type if isinstance(event_type, str) else event_type.event_type
        aggregate, name, _ = type_parts(type_name)
        return f"{self.root}.{_org(org).subject_tokens}.copy.{kind.value}.{aggregate}.{name}"


def _org(org: str | OrgCode) -> OrgCode:
    return org if isinstance(org, OrgCode) else OrgCode.parse(org)
