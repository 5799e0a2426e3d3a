"""Loading and storing items, drafts and versions: the only module that knows the table layout."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_catalogue.domain import Department, ItemDraft, search_texts
from daiban_catalogue.models import Department as DepartmentRow
from daiban_catalogue.models import Item, ItemVersion
from daiban_common.contracts.catalogue import ItemVersionData


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


def add_item(session: AsyncSession, draft: ItemDraft) -> Item:
    item = Item(
        implementation_code=draft.implementation_code,
        base_code=draft.base_code,
        implementing_org=draft.implementing_org,
        status="draft",
        draft=draft.model_dump(mode="json"),
    )
    session.add(item)
    return item


def save_draft(item: Item, draft: ItemDraft) -> None:
    item.draft = draft.model_dump(mode="json")
    item.draft_updated_at = func.now()  # type: ignore[assignment]


def add_version(session: AsyncSession, item: Item, version: ItemVersionData) -> None:
    """Record a new version and make it current; the draft becomes a copy of what was published."""
    session.add(version_row(version))
    item.current_version = version.version
    item.status = version.status.value
    item.draft = ItemDraft.model_validate(
        {name: getattr(version, name) for name in ItemDraft.model_fields}
    ).model_dump(mode="json")


def version_row(v: ItemVersionData) -> ItemVersion:
    return ItemVersion(
        implementation_code=v.implementation_code,
        version=v.version,
        data=v.model_dump(mode="json"),
        base_code=v.base_code,
        name=v.name,
        name_pinyin=v.name_pinyin,
        name_initials=v.name_initials,
        search_text="\n".join(search_texts(v)),
        keywords=list(v.keywords),
        type=v.type.value,
        kind=v.kind.value,
        handling_level=v.handling_level.value,
        status=v.status.value,
        acceptable_tiers=[tier.value for tier in v.acceptable_tiers],
        departments=[v.departments.lead, *v.departments.others],
        implementing_org=v.implementing_org,
        online_available=v.online_available,
        moved_level=v.delegation is not None and v.delegation.delegated_at_version == v.version,
        effective_date=v.effective_date,
        published_at=v.published_at,
    )


async def department_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.exec(select(DepartmentRow.code, DepartmentRow.name))
    return dict(rows.all())


async def add_departments(session: AsyncSession, departments: Sequence[Department]) -> None:
    known = await department_names(session)
    for d in departments:
        if d.code not in known:
            session.add(DepartmentRow(code=d.code, name=d.name, tier=d.tier.value))


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
