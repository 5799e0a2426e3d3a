"""Item search in SQL, following the rule of `domain.search`: a normalised substring of the search text.

Only each item's current version is searched, never a draft. `search_text` holds the normalised
name, pinyin, initials, codes and keywords one per line; a query is normalised the same way and
has no whitespace left, so it can never match across two lines. The trigram index answers the
`LIKE '%…%'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_catalogue.domain import normalise
from daiban_catalogue.domain.handbook import implementing_orgs_for
from daiban_catalogue.models import Item, ItemVersion
from daiban_common.contracts.catalogue import HandlingLevel, ItemKind, ItemStatus, ItemType, ItemVersionData
from daiban_common.orgcodes import OrgCode
from daiban_common.pagination import PageParams, after_clause, paginate


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
