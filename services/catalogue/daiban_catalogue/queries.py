"""The read side: items, drafts and versions as stored, and what each read of the API returns.

Item search in SQL follows the rule of `domain.search`: a normalised substring of the search text.

Only each item's current version is searched, never a draft. `search_text` holds the normalised
name, pinyin, initials, codes and keywords one per line; a query is normalised the same way and
has no whitespace left, so it can never match across two lines. The trigram index answers the
`LIKE '%…%'`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_catalogue.domain import (
    DraftState,
    InvalidQuery,
    ItemDraft,
    NotInCatalogue,
    ReformStats,
    Violation,
    normalise,
    reform_stats,
)
from daiban_catalogue.domain.handbook import handbook_order, implementing_orgs_for
from daiban_catalogue.models import Department as DepartmentRow
from daiban_catalogue.models import Item, ItemVersion, org_units
from daiban_common.pagination import PageParams, after_clause, paginate
from daiban_common.uow import UnitOfWork
from daiban_contracts.catalogue import HandlingLevel, ItemKind, ItemStatus, ItemType, ItemVersionData
from daiban_contracts.orgcodes import OrgCode


@dataclass(frozen=True)
class ItemFilter:
    q: str | None = None
    kind: ItemKind | None = None
    type: ItemType | None = None
    handling_level: HandlingLevel | None = None
    acceptable_at: OrgCode | None = None
    department: str | None = None
    online: bool | None = None
    status: ItemStatus | None = None
    updated_since: datetime | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: ItemFilter) -> list[ColumnElement[bool]]:
    v = ItemVersion
    found: list[ColumnElement[bool]] = []
    query = normalise(f.q or "")
    if query:
        found.append(col(v.search_text).like(f"%{_escape_like(query)}%", escape="\\"))
    if f.kind is not None:
        found.append(col(v.kind) == f.kind.value)
    if f.type is not None:
        found.append(col(v.type) == f.type.value)
    if f.handling_level is not None:
        found.append(col(v.handling_level) == f.handling_level.value)
    if f.acceptable_at is not None:
        # Array containment (@>) rather than = ANY(), so that the GIN index can answer it.
        found.append(col(v.acceptable_tiers).contains([f.acceptable_at.tier.value]))
        found.append(col(v.implementing_org).in_(implementing_orgs_for(f.acceptable_at)))
    if f.department is not None:
        found.append(col(v.departments).contains([f.department]))
    if f.online is not None:
        found.append(col(v.online_available) == f.online)
    if f.status is not None:
        found.append(col(v.status) == f.status.value)
    elif f.updated_since is None:
        # The public looks for items in force; replicas catching up also need retirements.
        found.append(col(v.status) == ItemStatus.published.value)
    if f.updated_since is not None:
        found.append(col(v.recorded_at) > f.updated_since)
    return found


def _current(*columns: Any) -> Any:
    """Current versions only: the item's `current_version` picks one row per item."""
    return select(ItemVersion.data, *columns).join(
        Item,
        and_(
            col(Item.implementation_code) == col(ItemVersion.implementation_code),
            col(Item.current_version) == col(ItemVersion.version),
        ),
    )


async def search(
    session: AsyncSession, f: ItemFilter, page: PageParams
) -> tuple[list[ItemVersionData], str | None, int]:
    """A page of current versions, the next cursor and the total.

    Ordered by code for people; by (recorded_at, code) with `updated_since`, so that a replica can
    page through changes in the order they happened.
    """
    conditions = _conditions(f)
    if f.updated_since is not None:
        sort = [col(ItemVersion.recorded_at), col(ItemVersion.implementation_code)]
        after = page.key(datetime, str)
    else:
        sort = [col(ItemVersion.implementation_code)]
        after = page.key(str)
    stmt = _current(*sort).where(*conditions)
    if after is not None:
        stmt = stmt.where(after_clause(sort, after))
    stmt = stmt.order_by(*sort).limit(page.limit + 1)
    rows = list(await session.exec(stmt))
    total_stmt = select(func.count()).select_from(_current().where(*conditions).subquery())
    total = (await session.exec(total_stmt)).one()
    page_rows, next_cursor = paginate(rows, page, key=lambda row: tuple(row[1:]))
    return [ItemVersionData.model_validate(row[0]) for row in page_rows], next_cursor, int(total)


async def acceptable_at(session: AsyncSession, org: OrgCode) -> list[ItemVersionData]:
    """Every item in force that a citizen can start at `org` (the handbook's content)."""
    stmt = _current().where(*_conditions(ItemFilter(acceptable_at=org)))
    return [ItemVersionData.model_validate(data) for data in await session.exec(stmt)]


async def get_item(session: AsyncSession, code: str, *, for_update: bool = False) -> Item | None:
    """The item row; `for_update` locks it so that two publishes cannot both make version n+1."""
    stmt = select(Item).where(Item.implementation_code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


def draft_of(item: Item) -> ItemDraft:
    return ItemDraft.model_validate(item.draft)


async def get_version(session: AsyncSession, code: str, version: int) -> ItemVersionData | None:
    stmt = select(ItemVersion.data).where(
        ItemVersion.implementation_code == code, ItemVersion.version == version
    )
    data = (await session.exec(stmt)).first()
    return ItemVersionData.model_validate(data) if data is not None else None


async def current_version(session: AsyncSession, item: Item) -> ItemVersionData | None:
    if item.current_version is None:
        return None
    return await get_version(session, item.implementation_code, item.current_version)


async def list_versions(session: AsyncSession, code: str) -> list[ItemVersionData]:
    stmt = (
        select(ItemVersion.data)
        .where(ItemVersion.implementation_code == code)
        .order_by(col(ItemVersion.version))
    )
    return [ItemVersionData.model_validate(data) for data in await session.exec(stmt)]


async def department_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.exec(select(DepartmentRow.code, DepartmentRow.name))
    return dict(rows.all())


async def versions_in_force(session: AsyncSession, on: date) -> list[ItemVersionData]:
    """Each item's latest version effective on `on` (items not yet in the catalogue then are absent)."""
    stmt = (
        select(ItemVersion.data)
        .where(ItemVersion.effective_date <= on)
        .order_by(col(ItemVersion.implementation_code), col(ItemVersion.version).desc())
        .ext(distinct_on(col(ItemVersion.implementation_code)))
    )
    return [ItemVersionData.model_validate(data) for data in await session.exec(stmt)]


async def first_effective_date(session: AsyncSession) -> date | None:
    return (await session.exec(select(func.min(ItemVersion.effective_date)))).first()


async def level_moves(session: AsyncSession, start: date, end: date) -> list[ItemVersionData]:
    """Versions that delegated (or took back) an item, effective between `start` and `end`."""
    stmt = (
        select(ItemVersion.data)
        .where(
            col(ItemVersion.moved_level),
            ItemVersion.effective_date >= start,
            ItemVersion.effective_date <= end,
        )
        .order_by(col(ItemVersion.effective_date), col(ItemVersion.implementation_code))
    )
    return [ItemVersionData.model_validate(data) for data in await session.exec(stmt)]


# The reads behind the routes: each opens the unit of work, reads, and returns what the
# presenters need; a missing item or version is `NotInCatalogue`.


@dataclass(frozen=True)
class Found:
    """A page of versions, with the names of the departments they name (when shown in full)."""

    versions: list[ItemVersionData]
    next_cursor: str | None
    total: int
    department_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shown:
    """One version, with the names of the departments it names."""

    version: ItemVersionData
    department_names: dict[str, str]


@dataclass(frozen=True)
class Handbook:
    """What a citizen can start at `org`, in the handbook's order."""

    org: OrgCode
    versions: list[ItemVersionData]
    department_names: dict[str, str]
    # From the replica of routing's directory; None until routing has published the unit.
    org_name: str | None = None


@dataclass(frozen=True)
class Reform:
    """The catalogue in force on `end` against the one on `start`, and the level moves between."""

    start: date
    end: date
    stats: ReformStats
    moves: list[ItemVersionData]


async def search_items(uow: UnitOfWork, f: ItemFilter, page: PageParams) -> Found:
    async with uow:
        versions, next_cursor, total = await search(uow.session, f, page)
        names = await department_names(uow.session)
    return Found(versions, next_cursor, total, names)


async def current_item(uow: UnitOfWork, code: str) -> Shown:
    """The current version; an item never published does not exist for the public."""
    async with uow:
        item = await get_item(uow.session, code)
        current = await current_version(uow.session, item) if item is not None else None
        if current is None:
            raise NotInCatalogue()
        return Shown(current, await department_names(uow.session))


async def item_version(uow: UnitOfWork, code: str, version: int) -> Shown:
    async with uow:
        found = await get_version(uow.session, code, version)
        if found is None:
            raise NotInCatalogue("该事项没有这个版本")
        return Shown(found, await department_names(uow.session))


async def item_versions(uow: UnitOfWork, code: str, page: PageParams) -> Found:
    after = page.key(int)
    async with uow:
        versions = await _history(uow, code)
    if after is not None:
        versions = [v for v in versions if v.version > after[0]]
    rows, next_cursor = paginate(versions[: page.limit + 1], page, key=lambda v: (v.version,))
    return Found(rows, next_cursor, len(versions))


async def version_pair(
    uow: UnitOfWork, code: str, start: int | None, end: int | None
) -> tuple[ItemVersionData, ItemVersionData]:
    """Versions `start` and `end`; by default the current version and the one before."""
    async with uow:
        versions = {v.version: v for v in await _history(uow, code)}
    to_version = end if end is not None else max(versions)
    from_version = start if start is not None else max(to_version - 1, 1)
    missing = [
        Violation(name, f"该事项没有第{number}版")
        for name, number in (("from", from_version), ("to", to_version))
        if number not in versions
    ]
    if missing:
        raise InvalidQuery(missing)
    return versions[from_version], versions[to_version]


async def get_draft(uow: UnitOfWork, code: str) -> DraftState:
    """The draft being edited beside the current version (administrators only)."""
    async with uow:
        item = await get_item(uow.session, code)
        if item is None:
            raise NotInCatalogue()
        current = await current_version(uow.session, item)
        return DraftState(
            item.implementation_code, item.status, item.current_version, draft_of(item), current
        )


async def handbook(uow: UnitOfWork, org: OrgCode, prefixes: Sequence[str]) -> Handbook:
    """The handbook's items of `org`, an org unit whose code starts with one of `prefixes`."""
    if not any(org.value.startswith(prefix) for prefix in prefixes):
        raise NotInCatalogue("本目录不包含该区划单位")
    async with uow:
        versions = handbook_order(await acceptable_at(uow.session, org))
        names = await department_names(uow.session)
        org_name = await _org_name(uow.session, org)
    return Handbook(org, versions, names, org_name)


async def _org_name(session: AsyncSession, org: OrgCode) -> str | None:
    name = (await session.exec(select(org_units.c.name).where(org_units.c.code == org.value))).first()
    return str(name) if name is not None else None


async def reform(uow: UnitOfWork, start: date | None, end: date, today: date) -> Reform:
    """The catalogue in force on `end` against the one in force on `start` (by default the first)."""
    async with uow:
        first = await first_effective_date(uow.session)
        start = start if start is not None else min(first or today, end)
        if start > end:
            raise InvalidQuery([Violation("from", "起始日期不能晚于截止日期")])
        current = await versions_in_force(uow.session, end)
        baseline = await versions_in_force(uow.session, start)
        moves = await level_moves(uow.session, start, end)
    return Reform(start, end, reform_stats(current, baseline), moves)


async def _history(uow: UnitOfWork, code: str) -> list[ItemVersionData]:
    versions = await list_versions(uow.session, code)
    if not versions:
        raise NotInCatalogue()
    return versions
