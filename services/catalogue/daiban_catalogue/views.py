"""The read side: what each public read returns, built from the current versions and history."""

from __future__ import annotations

from datetime import date

from daiban_catalogue import queries
from daiban_catalogue import repository as repo
from daiban_catalogue.domain import describe_reform, diff, reform_stats
from daiban_catalogue.domain.handbook import handbook_order
from daiban_catalogue.handlers import UnknownItem
from daiban_catalogue.schemas import (
    DelegationOut,
    DiffOut,
    HandbookOut,
    ItemOut,
    ReformStatsOut,
    VersionSummary,
    item_out,
)
from daiban_common.contracts.catalogue import ItemVersionData
from daiban_common.errors import FieldError, InvalidInput
from daiban_common.orgcodes import OrgCode
from daiban_common.pagination import Page, PageParams, paginate
from daiban_common.uow import UnitOfWork


async def search_items(uow: UnitOfWork, f: queries.ItemFilter, page: PageParams) -> Page[ItemOut]:
    async with uow:
        versions, next_cursor, total = await queries.search(uow.session, f, page)
        names = await repo.department_names(uow.session)
    return Page[ItemOut](items=[item_out(v, names) for v in versions], next_cursor=next_cursor, total=total)


async def current_item(uow: UnitOfWork, code: str) -> ItemOut:
    """The current version; an item never published does not exist for the public."""
    async with uow:
        item = await repo.get_item(uow.session, code)
        current = await repo.current_version(uow.session, item) if item is not None else None
        if current is None:
            raise UnknownItem()
        return item_out(current, await repo.department_names(uow.session))


async def item_version(uow: UnitOfWork, code: str, version: int) -> ItemOut:
    async with uow:
        found = await repo.get_version(uow.session, code, version)
        if found is None:
            raise UnknownItem("该事项没有这个版本")
        return item_out(found, await repo.department_names(uow.session))


async def item_versions(uow: UnitOfWork, code: str, page: PageParams) -> Page[VersionSummary]:
    after = page.key(int)
    async with uow:
        versions = await _history(uow, code)
    if after is not None:
        versions = [v for v in versions if v.version > after[0]]
    rows, next_cursor = paginate(versions[: page.limit + 1], page, key=lambda v: (v.version,))
    return Page[VersionSummary](
        items=[VersionSummary.of(v) for v in rows], next_cursor=next_cursor, total=len(versions)
    )


async def version_diff(uow: UnitOfWork, code: str, start: int | None, end: int | None) -> DiffOut:
    """Field by field from `start` to `end`; by default the current version against the one before."""
    async with uow:
        versions = {v.version: v for v in await _history(uow, code)}
    to_version = end if end is not None else max(versions)
    from_version = start if start is not None else max(to_version - 1, 1)
    missing = [
        FieldError(name, f"该事项没有第{number}版")
        for name, number in (("from", from_version), ("to", to_version))
        if number not in versions
    ]
    if missing:
        raise InvalidInput(errors=missing)
    return DiffOut(
        implementation_code=code,
        from_version=from_version,
        to_version=to_version,
        changes=diff(versions[from_version], versions[to_version]),
    )


async def handbook(uow: UnitOfWork, org: OrgCode) -> HandbookOut:
    async with uow:
        versions = handbook_order(await queries.acceptable_at(uow.session, org))
        names = await repo.department_names(uow.session)
    return HandbookOut(
        org=org.value,
        org_tier=org.tier,
        org_tier_label=org.tier.label,
        title=f"便民服务手册（{org.tier.label}，区划代码{org.value}）",
        item_count=len(versions),
        items=[item_out(v, names) for v in versions],
    )


async def reform(uow: UnitOfWork, start: date | None, end: date, today: date) -> ReformStatsOut:
    """The catalogue in force on `end` against the one in force on `start` (by default the first)."""
    async with uow:
        first = await repo.first_effective_date(uow.session)
        start = start if start is not None else min(first or today, end)
        if start > end:
            raise InvalidInput.field("from", "起始日期不能晚于截止日期")
        current = await repo.versions_in_force(uow.session, end)
        baseline = await repo.versions_in_force(uow.session, start)
        moves = await repo.level_moves(uow.session, start, end)
    stats = reform_stats(current, baseline)
    return ReformStatsOut(
        **stats.model_dump(),
        from_date=start,
        to_date=end,
        summary=describe_reform(stats),
        delegations=[DelegationOut.of(v) for v in moves],
    )


async def _history(uow: UnitOfWork, code: str) -> list[ItemVersionData]:
    versions = await repo.list_versions(uow.session, code)
    if not versions:
        raise UnknownItem()
    return versions
