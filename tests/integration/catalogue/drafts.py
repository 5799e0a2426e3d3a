"""A valid new item for tests, and a replica that follows `catalogue.item_published` like intake's."""

from __future__ import annotations

import uuid
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeout

from daiban_common.settings import Settings
from daiban_contracts.catalogue import ItemPublished, ItemVersionData
from daiban_contracts.envelope import Envelope

NEW_CODE = "JF-09901-001-370285000000-01"


def new_item(**changes: Any) -> dict[str, Any]:
    """An old-age allowance for 90-year-olds, decided by the county: valid as it stands."""
    item: dict[str, Any] = {
        "base_code": "JF-09901-001",
        "item_code": NEW_CODE,
        "name": "90周岁以上老年人长寿补贴发放",
        "type": "administrative_payment",
        "kind": "promised",
        "handling_level": "county",
        "acceptable_tiers": ["village", "township", "county"],
        "implementing_org": "370285000000",
        "departments": {"lead": "county.civil_affairs"},
        "legal_basis": [{"law": "《山东省老年人权益保障条例》", "article": "第三十二条"}],
        "conditions": ["具有本市户籍", "年满90周岁"],
        "materials": [
            {"code": "M01", "name": "居民身份证", "form": "copy", "copies": 1, "core": True},
            {"code": "M02", "name": "银行卡", "form": "copy", "copies": 1, "deficiency_allowed": True},
        ],
        "statutory_working_days": 20,
        "promised_working_days": 10,
        "keywords": ["长寿补贴", "高龄"],
    }
    item.update(changes)
    return item


class Replica:
    """Follows the catalogue's events from the stream and keeps the latest version of each item."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.subject = f"{settings.subject_root}.370285.000.000.catalogue.item_published"
        self.items: dict[str, ItemVersionData] = {}
        self.envelopes: list[Envelope] = []

    async def __aenter__(self) -> Replica:
        self.nc = await nats.connect(self.settings.nats_url)
        js = self.nc.jetstream()
        self.sub = await js.subscribe(self.subject, stream=self.settings.stream_name, ordered_consumer=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    async def catch_up(self) -> Replica:
        while True:
            try:
                msg = await self.sub.next_msg(timeout=0.3)
            except NatsTimeout:
                return self
            envelope = Envelope.from_bytes(msg.data)
            payload = envelope.payload()
            assert isinstance(payload, ItemPublished)
            self.envelopes.append(envelope)
            known = self.items.get(payload.item.implementation_code)
            if known is None or known.version < payload.item.version:
                self.items[payload.item.implementation_code] = payload.item


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    """`headers` with an Idempotency-Key (a fresh one unless given): every creating POST needs one."""
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}
