"""Publishing, delegation and retirement: each makes a new immutable version of an item.

A version is never changed; every change, a retirement included, is the next version. The
handling level only moves through `delegate`, so that each move is recorded with where it came
from and why (the centres report delegated powers, 下放事权, from this record).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

from daiban_catalogue.domain.drafts import (
    HTTP_ITEM_CODE,
    ItemDraft,
    content_fields,
    draft_from_version,
    same_content,
)
from daiban_catalogue.domain.errors import InvalidDraft, VersionConflict, Violation
from daiban_catalogue.domain.rules import ACCEPTING_TIERS, ensure_valid
from daiban_catalogue.domain.search import derive_search_keys
from daiban_contracts.catalogue import (
    Delegation,
    Departments,
    HandlingLevel,
    ItemContent,
    ItemKind,
    ItemStatus,
    ItemVersionData,
    Tier,
)


def publish(
    draft: ItemContent,
    previous: ItemVersionData | None,
    *,
    effective_date: date,
    now: datetime,
    known_departments: Set[str],
    known_orgs: Set[str],
    note: str | None = None,
) -> ItemVersionData:
    """The draft as the item's next version (version 1 when there is no previous one)."""
    _require_aware(now)
    ensure_valid(draft, known_departments=known_departments, known_orgs=known_orgs)
    if previous is not None:
        _raise_if_any(_continuity(draft, previous, effective_date))
        if previous.status is ItemStatus.published and same_content(draft, previous):
            raise VersionConflict([Violation("draft", "草稿内容与当前版本相同，无需发布")])
    return _next_version(
        draft,
        previous,
        status=ItemStatus.published,
        effective_date=effective_date,
        now=now,
        delegation=previous.delegation if previous is not None else None,
        note=note,
    )


def delegate(
    current: ItemVersionData,
    *,
    to_level: HandlingLevel,
    departments: Departments,
    reason: str,
    effective_date: date,
    now: datetime,
    known_departments: Set[str],
    known_orgs: Set[str],
    kind: ItemKind | None = None,
    deciding_authority: str | None = None,
) -> ItemVersionData:
    """Move the handling level (下放, or 收回 when moving up) as a new version that records the move.

    The item's departments change with the level, so the caller names the new ones. Tiers that
    accepted the item keep accepting it as long as they are at or below the new level, and the new
    deciding tier accepts it too. An escalated item brought down to the county stops being
    escalated (promised, or joint when it names several departments) unless `kind` says otherwise.
    """
    _require_aware(now)
    _raise_if_any(_movable(current, to_level, reason, effective_date))
    updates: dict[str, Any] = {
        "handling_level": to_level,
        "departments": departments,
        "acceptable_tiers": _tiers_after_move(current.acceptable_tiers, to_level),
        "kind": kind or _kind_after_move(current.kind, to_level, departments),
        "deciding_authority": deciding_authority if to_level is Tier.above_county else None,
    }
    content = ItemDraft(**{**_content(current), **updates})
    ensure_valid(content, known_departments=known_departments, known_orgs=known_orgs)
    record = Delegation(
        from_level=current.handling_level,
        to_level=to_level,
        from_lead_department=current.departments.lead,
        reason=reason.strip(),
        delegated_at_version=current.version + 1,
    )
    return _next_version(
        content,
        current,
        status=ItemStatus.published,
        effective_date=effective_date,
        now=now,
        delegation=record,
        note=reason.strip(),
    )


def retire(current: ItemVersionData, *, reason: str, effective_date: date, now: datetime) -> ItemVersionData:
    """Withdraw the item from the catalogue (取消事项): a version with the same content, retired."""
    _require_aware(now)
    if current.status is ItemStatus.retired:
        raise VersionConflict([Violation("status", "该事项已废止")])
    problems = [Violation("reason", "请写明废止原因")] if not reason.strip() else []
    problems.extend(_not_earlier(effective_date, current))
    _raise_if_any(problems)
    return _next_version(
        draft_from_version(current),
        current,
        status=ItemStatus.retired,
        effective_date=effective_date,
        now=now,
        delegation=current.delegation,
        note=reason.strip(),
    )


def ensure_not_retroactive(effective_date: date, today: date) -> None:
    """A new version takes effect today or later: what was in force yesterday stays as it was.

    The demo history replays past versions through `publish` directly; requests go through here.
    """
    if effective_date < today:
        raise InvalidDraft([Violation("effective_date", f"生效日期不能早于今天（{today.isoformat()}）")])


def refuse_version_edit(version: ItemVersionData) -> NoReturn:
    """Published versions are immutable: editing one is a conflict, never a silent update."""
    raise VersionConflict(
        [Violation("version", f"第{version.version}版已发布，不能修改；请基于该版本创建草稿并发布新版本")]
    )


def _continuity(draft: ItemContent, previous: ItemVersionData, effective_date: date) -> list[Violation]:
    problems = []
    if draft.implementation_code != previous.implementation_code:
        problems.append(
            Violation(HTTP_ITEM_CODE, f"实施编码不能修改，本事项为{previous.implementation_code}")
        )
    if draft.handling_level is not previous.handling_level:
        problems.append(Violation("handling_level", "办理层级的变更须通过下放或收回办理，以便留存记录"))
    problems.extend(_not_earlier(effective_date, previous))
    return problems


def _movable(current: ItemVersionData, to_level: Tier, reason: str, effective_date: date) -> list[Violation]:
    if current.status is ItemStatus.retired:
        raise VersionConflict([Violation("status", "该事项已废止，不能下放或收回")])
    problems = []
    if to_level is current.handling_level:
        problems.append(Violation("to_level", f"事项已在{to_level.label}办理"))
    if not reason.strip():
        problems.append(Violation("reason", "请写明下放或收回的原因"))
    problems.extend(_not_earlier(effective_date, current))
    return problems


def _not_earlier(effective_date: date, previous: ItemVersionData) -> list[Violation]:
    if effective_date < previous.effective_date:
        message = f"生效日期不能早于上一版本的生效日期（{previous.effective_date.isoformat()}）"
        return [Violation("effective_date", message)]
    return []


def _tiers_after_move(tiers: Iterable[Tier], to_level: Tier) -> tuple[Tier, ...]:
    kept = {tier for tier in tiers if tier.rank <= to_level.rank}
    if to_level in ACCEPTING_TIERS:
        kept.add(to_level)
    return tuple(tier for tier in ACCEPTING_TIERS if tier in kept)


def _kind_after_move(kind: ItemKind, to_level: Tier, departments: Departments) -> ItemKind:
    if to_level is Tier.above_county:
        return ItemKind.escalated
    if kind is ItemKind.escalated:
        return ItemKind.joint if departments.others else ItemKind.promised
    return kind


def _content(item: ItemContent) -> dict[str, Any]:
    return {name: getattr(item, name) for name in content_fields()}


def _next_version(
    content: ItemContent,
    previous: ItemVersionData | None,
    *,
    status: ItemStatus,
    effective_date: date,
    now: datetime,
    delegation: Delegation | None,
    note: str | None,
) -> ItemVersionData:
    pinyin, initials = derive_search_keys(content.name)
    return ItemVersionData(
        **_content(content),
        name_pinyin=pinyin,
        name_initials=initials,
        version=previous.version + 1 if previous is not None else 1,
        previous_version=previous.version if previous is not None else None,
        status=status,
        effective_date=effective_date,
        published_at=now,
        delegation=delegation,
        change_note=note,
    )


def _raise_if_any(problems: list[Violation]) -> None:
    if problems:
        raise InvalidDraft(problems)


def _require_aware(now: datetime) -> None:
    # A programming error, not bad input: published_at must be comparable across nodes.
    if now.tzinfo is None:
        raise ValueError("now must carry a UTC offset")


@dataclass(frozen=True)
class NewVersion:
    """A version just published (or delegated, retired), with the department names its answer shows."""

    version: ItemVersionData
    department_names: dict[str, str]
