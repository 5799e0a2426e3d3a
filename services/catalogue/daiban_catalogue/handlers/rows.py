"""Storing items, drafts and versions: the write side's rows (the reads are in `queries`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_catalogue.domain import Department, ItemDraft, draft_from_version, search_texts
from daiban_catalogue.models import Department as DepartmentRow
from daiban_catalogue.models import Item, ItemVersion
from daiban_catalogue.queries import department_names
from daiban_contracts.catalogue import ItemVersionData


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
    item.draft = draft_from_version(version).model_dump(mode="json")


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


async def add_departments(session: AsyncSession, departments: Sequence[Department]) -> None:
    known = await department_names(session)
    for d in departments:
        if d.code not in known:
            session.add(DepartmentRow(code=d.code, name=d.name, tier=d.tier.value))
