"""Intake's replica of the catalogue: item versions as `catalogue.item_published` delivers them.

Versions are immutable; a redelivered or replayed version changes nothing. A new one changes
which version of its item is in force: acceptance's cache of the replica forgets what it read.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert

from daiban_common.consumer import Handler
from daiban_common.uow import UnitOfWork
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.envelope import Envelope
from daiban_intake.models import ItemReplica
from daiban_intake.queries.items import ParsedItems


def version_recorder(items: ParsedItems) -> Handler[ItemPublished]:
    """Consumer of `daiban.catalogue.item_published.v1`: `record_version`, telling `items`
    (acceptance's cache of the replica) that which versions a code names may have changed."""

    async def record_and_forget(envelope: Envelope, payload: ItemPublished, uow: UnitOfWork) -> None:
        # Now, and again once the version is committed: what an acceptance reads in between
        # (without it) is not kept past the commit.
        items.forget()
        event.listen(uow.session.sync_session, "after_commit", lambda _session: items.forget(), once=True)
        await record_version(envelope, payload, uow)

    return record_and_forget


async def record_version(envelope: Envelope, payload: ItemPublished, uow: UnitOfWork) -> None:
    """The version into the replica (the consumer is `version_recorder`, which tells the cache)."""
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
