"""The chain's tail: an entry written past the head is caught, and no tail stays unsigned for long."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from daiban_audit.domain.chain import Entry, sealed
from daiban_audit.models import LogEntry
from daiban_common.cli import verify_audit_log
from tests.integration.audit.journey import COUNTY, TOWNSHIP, bearer, publish, scalar, wait_for_entries
from tests.integration.audit.test_log import journey
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration


async def test_an_entry_appended_past_the_head_with_a_correct_hash_is_caught(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No checkpoint during the test: the whole chain is the unsigned tail.
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES", "1000")
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "3600")
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        events = journey()
        await publish(settings, events)
        await wait_for_entries(audit, len(events))
        size = len(events)
        response = await audit.client.get("/v1/audit/verify", headers=bearer(settings))
        body: dict[str, Any] = response.json()
        assert body["ok"] is True
        tail = body["unsigned_tail"]
        assert tail["entries"] == size and tail["age_seconds"] >= 0 and tail["oldest_recorded_at"]

        # Someone with the database appends a well-formed entry, linked to the head's hash, but
        # leaves the chain head alone.
        prev = await scalar(audit, f"SELECT hash FROM audit.entries WHERE seq = {size}")
        now = datetime.now(UTC)
        forged = sealed(
            Entry(
                seq=size + 1, event_id="forged", type="daiban.case.accepted.v1", source="/forger",
                subject="forged", time=now, recorded_at=now, org=TOWNSHIP, actor="forger",
                data={"note": "补录"}, prev_hash=prev,
            )
        )  # fmt: skip
        async with audit.runtime.engine.begin() as conn:
            await conn.execute(insert(LogEntry).values(**{n: getattr(forged, n) for n in Entry.__slots__}))

        response = await audit.client.get("/v1/audit/verify", headers=bearer(settings))
        body = response.json()
        failure = body["failure"]
        assert (body["ok"], failure["reason"], failure["seq"]) == (False, "beyond_head", size + 1)
        assert f"第{size + 1}条" in body["detail"] and body["checked"] == size
        # The command line says the same and exits 1.
        token = bearer(settings)["Authorization"].removeprefix("Bearer ")
        code, result = await verify_audit_log(
            audit.client, None, node_org=COUNTY, token=token, parent_token=token
        )
        assert (code, result["failure"]["reason"]) == (1, "beyond_head")
        # A range that stops at the head is still sound.
        ranged = await audit.client.get("/v1/audit/verify", params={"to_seq": size}, headers=bearer(settings))
        assert ranged.json()["ok"] is True


async def test_a_quiet_node_signs_its_tail_in_time_without_reaching_the_count(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES", "1000")
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "0.5")
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        await publish(settings, journey()[:3])
        await wait_for_entries(audit, 3)

        async def signed_sizes() -> list[int]:
            response = await audit.client.get("/v1/audit/checkpoints", headers=bearer(settings))
            return [cp["size"] for cp in response.json()["items"]]

        async def head_signed() -> bool:
            return 3 in await signed_sizes()

        await eventually(head_signed, within=15)
        body = (await audit.client.get("/v1/audit/verify", headers=bearer(settings))).json()
        assert body["ok"] is True
        assert body["unsigned_tail"] == {"entries": 0, "oldest_recorded_at": None, "age_seconds": None}
