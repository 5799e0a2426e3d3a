"""The hop chain: which org unit a case goes to next, up to the deciding tier and back down.

Each node applies one step at a time (`next_step_up`, `next_hop_down`), so a township node can
decide its own items and forward the rest without knowing how the county is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from daiban_contracts.orgcodes import OrgCode, Tier


class RouteError(ValueError):
    """A case that cannot be routed from where it is (the message is shown to people)."""


class StepKind(StrEnum):
    decide = "decide"
    forward = "forward"
    # Decided above the county: the county centre carries the procedure for the citizen.
    escalate = "escalate"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    org: OrgCode


def next_step_up(at: OrgCode, handling_level: Tier) -> Step:
    """What the org unit holding a case does with it: decide it, escalate it, or forward it up."""
    if handling_level is Tier.above_county:
        if at.tier is Tier.county:
            return Step(StepKind.escalate, at)
        if at.tier is Tier.above_county:
            raise RouteError(f"区划单位{at.value}不属于本县网络，无法办理上报件")
    elif at.tier is handling_level:
        return Step(StepKind.decide, at)
    elif at.tier.rank > handling_level.rank:
        raise RouteError(
            f"事项由{handling_level.label}办理，但办件位于更高层级的{at.tier.label}单位{at.value}"
        )
    parent = at.parent
    if parent is None:  # pragma: no cover - only a province has no parent
        raise RouteError(f"区划单位{at.value}没有上级单位")
    return Step(StepKind.forward, parent)


def route_up(accepting: OrgCode, handling_level: Tier) -> list[OrgCode]:
    """Every unit a case visits after the accepting one, ending at the unit that decides it."""
    chain: list[OrgCode] = []
    step = next_step_up(accepting, handling_level)
    while step.kind is StepKind.forward:
        chain.append(step.org)
        step = next_step_up(step.org, handling_level)
    return chain


def next_hop_down(at: OrgCode, accepting: OrgCode) -> OrgCode | None:
    """The unit below `at` on the way back to `accepting`; None once the case is there."""
    if at == accepting:
        return None
    if not accepting.is_within(at):
        raise RouteError(f"受理单位{accepting.value}不在{at.value}的下级范围内，无法回传")
    current = accepting
    while current.parent is not None and current.parent != at:
        current = current.parent
    return current


def route_down(deciding: OrgCode, accepting: OrgCode) -> list[OrgCode]:
    """Every unit the decision visits on its way back, ending at the accepting unit."""
    chain: list[OrgCode] = []
    current = next_hop_down(deciding, accepting)
    while current is not None:
        chain.append(current)
        current = next_hop_down(current, accepting)
    return chain
