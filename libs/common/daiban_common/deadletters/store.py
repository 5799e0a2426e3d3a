"""The SQL of a service's `dead_letters` table (daiban_common.messaging)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from daiban_common.auth import subtree_clause
from daiban_common.pagination import PageParams, after_clause, paginate
from daiban_contracts.orgcodes import OrgCode


@dataclass(frozen=True)
class Scope:
    """Whose dead letters: the caller's subtree, on the node of `node_org` (whose own dead letters,
    those without an org, only callers who see the node's org see)."""

    caller: OrgCode
    node_org: OrgCode

    def clause(self, table: Table) -> ColumnElement[bool]:
        within = subtree_clause(table.c.org, self.caller)
        return or_(within, table.c.org.is_(None)) if self.node_org.is_within(self.caller) else within


@dataclass(frozen=True)
class DeadLetterFilter:
    status: str | None = None
    type: str | None = None
    consumer: str | None = None
    org: OrgCode | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self, table: Table) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(table.c.status == self.status)
        if self.type is not None:
            found.append(table.c.type == self.type)
        if self.consumer is not None:
            found.append(table.c.consumer == self.consumer)
        if self.org is not None:
            found.append(subtree_clause(table.c.org, self.org))
        if self.since is not None:
            found.append(table.c.created_at >= self.since)
        if self.until is not None:
            found.append(table.c.created_at < self.until)
        return found


async def page_of(
    conn: AsyncConnection, table: Table, scope: Scope, filters: DeadLetterFilter, page: PageParams
) -> tuple[list[Row[Any]], str | None]:
    """The newest first, by id (an identity: a keyset that never repeats)."""
    stmt = select(table).where(scope.clause(table), *filters.clauses(table))
    after = page.key(int)
    if after is not None:
        stmt = stmt.where(after_clause([table.c.id], after, descending=True))
    rows = (await conn.execute(stmt.order_by(table.c.id.desc()).limit(page.limit + 1))).all()
    return paginate(rows, page, key=lambda row: (row.id,))


async def one(
    conn: AsyncConnection, table: Table, dead_letter_id: int, scope: Scope, *, lock: bool = False
) -> Row[Any] | None:
    """The dead letter if the scope sees it; with `lock`, row-locked until the transaction ends,
    so that two replays of one dead letter happen one after the other."""
    stmt = select(table).where(table.c.id == dead_letter_id, scope.clause(table))
    if lock:
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def change(conn: AsyncConnection, table: Table, dead_letter_id: int, **values: Any) -> Row[Any]:
    """Set `values` on the dead letter; the row as it is now."""
    stmt = update(table).where(table.c.id == dead_letter_id).values(**values).returning(*table.c)
    return (await conn.execute(stmt)).one()
