"""Intake's replica of the catalogue: item versions as `catalogue.item_published` delivers them.

Versions are immutable; a redelivered or replayed version changes nothing.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert

from daiban_common.uow import UnitOfWork
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.envelope import Envelope
from daiban_intake.models import ItemReplica


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
