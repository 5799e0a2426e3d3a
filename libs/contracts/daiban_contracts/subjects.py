"""Where events travel: one value builds every subject we publish to and every filter we read with.

A subject is `<root>.<county6>.<township3>.<village3>.<aggregate>.<event>`, e.g.
`daiban.370285.101.201.case.accepted`: the org the event concerns, then its type without the
version. `root` is `DAIBAN_SUBJECT_ROOT` ("daiban" unless a deployment or a test keeps several
networks on one server). Filters follow the tiers: a township's subtree is `daiban.370285.101.>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daiban_contracts.envelope import Envelope, EventData, type_parts
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier

_ROOT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Org tokens in a subject (county6, township3, village3) an org's subtree fixes; the rest are `*`.
_FIXED_TOKENS = {Tier.county: 1, Tier.township: 2, Tier.village: 3}


@dataclass(frozen=True)
class Subjects:
    root: str = "daiban"

    def __post_init__(self) -> None:
        if not _ROOT.fullmatch(self.root):
            raise ValueError(f"subject root must match {_ROOT.pattern}, got {self.root!r}")

    @property
    def stream(self) -> list[str]:
        """The subjects of the stream holding this network's events."""
        return [f"{self.root}.>"]

    def of(self, envelope: Envelope) -> str:
        """The subject `envelope` is published to."""
        aggregate, event, _ = type_parts(envelope.type)
        return f"{self.root}.{OrgCode.parse(envelope.org).subject_tokens}.{aggregate}.{event}"

    def at(self, org: str | OrgCode, event: type[EventData]) -> str:
        """Events of one type about exactly `org` (e.g. checkpoints addressed to a parent node)."""
        aggregate, name, _ = type_parts(event.event_type)
        return f"{self.root}.{_org(org).subject_tokens}.{aggregate}.{name}"

    def within(self, org: str | OrgCode, event: type[EventData] | None = None) -> str:
        """A filter for the events (of one type, or all) about `org` and every unit below it."""
        code = _org(org)
        fixed = _FIXED_TOKENS.get(code.tier)
        if fixed is None:
            # NATS wildcards match whole tokens only, and "3702" is part of the county6 token.
            raise InvalidOrgCode(f"区划代码{code.value}是县级以上单位，无法用一个主题过滤其下级")
        tokens = code.subject_tokens.split(".")[:fixed]
        if event is None:
            return ".".join([self.root, *tokens, ">"])
        aggregate, name, _ = type_parts(event.event_type)
        return ".".join([self.root, *tokens, *["*"] * (3 - fixed), aggregate, name])


def _org(org: str | OrgCode) -> OrgCode:
    return org if isinstance(org, OrgCode) else OrgCode.parse(org)
