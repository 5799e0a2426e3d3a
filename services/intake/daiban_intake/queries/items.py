"""Reading intake's replica of the catalogue: the item version in force for an acceptance.

Acceptance reads only this table (`handlers/catalogue.py` writes it from `catalogue.item_published`),
so a point keeps accepting while the county's catalogue is out of reach.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import Row
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.errors import InvalidInput
from daiban_common.orgunits import DEFAULT_TTL_SECONDS
from daiban_contracts.catalogue import BASE_CODE_PATTERN, ItemVersionData
from daiban_contracts.orgcodes import OrgCode
from daiban_intake.domain.acceptance import in_force
from daiban_intake.models import ItemReplica

_BASE_CODE = re.compile(BASE_CODE_PATTERN)


class ParsedItems:
    """Parsed item versions of one database, by (implementation code, version), and the key
    columns of the versions each item code names; one per process, in the context (tests run
    many nodes, each with its own database, in one process).

    Versions are immutable (written once, ON CONFLICT DO NOTHING), so a parsed one never goes
    stale; parsing and validating the JSONB on every acceptance was a tenth of its CPU. Which
    versions a code names does change, when one is published: the replica's consumer calls
    `forget` as it records one and again once it commits (`handlers/catalogue.py`); a version
    another process of the service recorded is seen within `KEYS_TTL_SECONDS`, as the staff
    directory and the org units are. Reading the key columns was one statement in nine of an
    acceptance's transaction.
    """

    LIMIT = 512
    KEYS_TTL_SECONDS = DEFAULT_TTL_SECONDS

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int], ItemVersionData] = OrderedDict()
        self._keys: dict[tuple[bool, str], tuple[float, list[Row[Any]]]] = {}
        # Bumped by `forget`: key columns read before it are not kept (a read that began before
        # a version committed may not have seen it).
        self._generation = 0

    def get(self, key: tuple[str, int]) -> ItemVersionData | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[str, int], item: ItemVersionData) -> None:
        self._items[key] = item
        if len(self._items) > self.LIMIT:
            self._items.popitem(last=False)

    def forget(self) -> None:
        """Which versions a code names may have changed (a version is being recorded)."""
        self._generation += 1
        self._keys.clear()

    async def keys_of(self, conn: AsyncConnection, by_base: bool, code: str) -> list[Row[Any]]:
        """The key columns of the versions `code` names (an implementation or a base code)."""
        cached = self._keys.get((by_base, code))
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        table = ItemReplica.__table__  # type: ignore[attr-defined]
        column = table.c.base_code if by_base else table.c.implementation_code
        # The key columns only: the JSONB of the one version in force is read (once) by the caller.
        rows = list(
            (
                await conn.execute(
                    core_select(
                        table.c.implementation_code,
                        table.c.version,
                        table.c.implementing_org,
                        table.c.effective_date,
                    ).where(column == code)
                )
            ).all()
        )
        if generation == self._generation:
            if len(self._keys) >= self.LIMIT:
                del self._keys[next(iter(self._keys))]  # the oldest: codes are few, and read again
            self._keys[(by_base, code)] = (now + self.KEYS_TTL_SECONDS, rows)
        return rows


async def item_in_force(
    session: AsyncSession, code: str, org: OrgCode, today: date, parsed: ParsedItems
) -> ItemVersionData | None:
    """The version in force of the item `code` names for `org`.

    `code` is an implementation code, or a base code (`XK-00105-001`) when exactly one
    implementation of it belongs to a catalogue `org` lies within; an ambiguous base code is a 422.
    """
    by_base = _BASE_CODE.fullmatch(code) is not None
    table = ItemReplica.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    rows = await parsed.keys_of(conn, by_base, code)
    if by_base:
        rows = [row for row in rows if org.is_within(OrgCode.parse(row.implementing_org))]
    implementations = sorted({row.implementation_code for row in rows})
    if len(implementations) > 1:
        raise InvalidInput.field(
            "item_code", f"基本编码{code}对应多个实施事项，请使用实施编码：{'、'.join(implementations)}"
        )
    # The same rule as `in_force`, on the columns (written from the very same version data).
    current = [row for row in rows if row.effective_date <= today]
    if not current:
        return None
    chosen = max(current, key=lambda row: row.version)
    key = (chosen.implementation_code, chosen.version)
    item = parsed.get(key)
    if item is None:
        data = await conn.scalar(
            core_select(table.c.data).where(table.c.implementation_code == key[0], table.c.version == key[1])
        )
        item = in_force([ItemVersionData.model_validate(data)], today)
        if item is None:
            return None
        parsed.put(key, item)
    return item
