"""Intake's replica of the catalogue: item versions as `catalogue.item_published` delivers them.

Acceptance reads only this table, so a point keeps accepting while the county's catalogue is out of
reach. Versions are immutable; a redelivered or replayed version changes nothing.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.contracts.catalogue import BASE_CODE_PATTERN, ItemPublished, ItemVersionData
from daiban_common.errors import InvalidInput
from daiban_common.events import Envelope
from daiban_common.orgcodes import OrgCode
from daiban_common.uow import UnitOfWork
from daiban_intake.domain.acceptance import in_force
from daiban_intake.models import ItemReplica

_BASE_CODE = re.compile(BASE_CODE_PATTERN)


async def record_version(envelope: Envelope, payload: ItemPublished, uow: UnitOfWork) -> None:
    """Consumer of `daiban.catalogue.item_published.v1`."""
    item = payload.item
    await uow.session.exec(
        pg_insert(ItemReplica)
        .values(
            implementation_code=item.implementation_code,
            version=item.version,
            base_code=item.base_code,
            implementing_org=item.implementing_org,
            status=item.status.value,
            effective_date=item.effective_date,
            data=item.model_dump(mode="json"),
        )
        .on_conflict_do_nothing()
    )


async def item_in_force(
    session: AsyncSession, code: str, org: OrgCode, today: date
) -> ItemVersionData | None:
    """The version in force of the item `code` names for `org`.

    `code` is an implementation code, or a base code (`XK-00105-001`) when exactly one
    implementation of it belongs to a catalogue `org` lies within; an ambiguous base code is a 422.
    """
    by_base = _BASE_CODE.fullmatch(code) is not None
    column = ItemReplica.base_code if by_base else ItemReplica.implementation_code
    rows = list((await session.exec(select(ItemReplica).where(column == code))).all())
    if by_base:
        rows = [row for row in rows if org.is_within(OrgCode.parse(row.implementing_org))]
    implementations = sorted({row.implementation_code for row in rows})
    if len(implementations) > 1:
        raise InvalidInput.field(
            "item", f"基本编码{code}对应多个实施事项，请使用实施编码：{'、'.join(implementations)}"
        )
    return in_force((ItemVersionData.model_validate(row.data) for row in rows), today)
