"""Checkpoints: a township node signs them, the county node keeps them, and a rewrite is caught upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlmodel import col, select

from daiban_audit.domain.chain import GENESIS_HASH, sealed
from daiban_audit.models import LogEntry
from daiban_audit.queries import as_entry
from daiban_common.cli import verify_audit_log
from daiban_common.settings import Settings
from tests.integration.audit.journey import COUNTY, TOWNSHIP, bearer, execute, publish, wait_for_entries
from tests.integration.audit.test_log import journey
from tests.servers import Network, RunningService, eventually, running

pytestmark = pytest.mark.integration


@dataclass
class TwoNodes:
    county: Settings
    township: Settings
    parent: RunningService
    child: RunningService


@pytest.fixture
async def two_nodes(network: Network, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TwoNodes]:
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES", "3")
    # The timer covers the last entry too, which no count of three reaches.
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "0.4")
    county = await network.node(COUNTY, child_nodes=[TOWNSHIP])
    township = await network.node(TOWNSHIP)
    async with running("audit", county) as parent, running("audit", township) as child:
        await publish(township, journey()[:7])
        await wait_for_entries(child, 7)
        nodes = TwoNodes(county, township, parent, child)

        async def parent_holds_the_head() -> bool:
            return 7 in [cp["size"] for cp in await held(nodes)]

        await eventually(parent_holds_the_head, within=15)
        yield nodes


async def held(nodes: TwoNodes) -> list[dict[str, Any]]:
    response = await nodes.parent.client.get(
        "/v1/audit/checkpoints", params={"node": TOWNSHIP}, headers=bearer(nodes.county)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def verify_with_parent(nodes: TwoNodes) -> tuple[int, dict[str, Any]]:
    """What `daiban audit verify --parent-url ...` does, over the in-process clients."""
    token = bearer(nodes.township, org=TOWNSHIP)["Authorization"].removeprefix("Bearer ")
    return await verify_audit_log(
        nodes.child.client, nodes.parent.client, node_org=TOWNSHIP, token=token, parent_token=token
    )


async def cover_tracks(child: RunningService, size: int, keep_checkpoints_to: int) -> None:
    """What someone controlling the node's database does after changing the log: make it agree."""
    await execute(
        child,
        f"DELETE FROM audit.checkpoints WHERE size > {keep_checkpoints_to}",
        f"UPDATE audit.chain_heads SET size = {size}, checkpointed_size = {size},"
        f" head_hash = (SELECT hash FROM audit.entries WHERE seq = {size})",
    )


async def test_the_parent_keeps_the_childs_signed_checkpoints(two_nodes: TwoNodes) -> None:
    checkpoints = await held(two_nodes)
    sizes = [cp["size"] for cp in checkpoints]
    # The timer may sign a partial head while the journey is still arriving; the count rule then
    # restarts from there, so what must hold is that no more than three entries go unsigned.
    assert sizes == sorted(sizes) and sizes[-1] == 7
    assert all(later - earlier <= 3 for earlier, later in zip([0, *sizes], sizes, strict=False))
    township_auditor = bearer(two_nodes.township, org=TOWNSHIP)
    own = await two_nodes.child.client.get("/v1/audit/checkpoints", headers=township_auditor)
    assert [cp["head_hash"] for cp in own.json()["items"]] == [cp["head_hash"] for cp in checkpoints]
    assert {cp["public_key"] for cp in checkpoints} == {own.json()["items"][0]["public_key"]}
    code, result = await verify_with_parent(two_nodes)
    assert (code, result["ok"]) == (0, True) and result["checkpoints_checked"] >= 3


async def test_a_truncated_tail_is_caught_against_the_parents_checkpoint(two_nodes: TwoNodes) -> None:
    child = two_nodes.child
    await execute(child, "DELETE FROM audit.entries WHERE seq > 4")
    await cover_tracks(child, 4, keep_checkpoints_to=4)
    local = await child.client.get("/v1/audit/verify", headers=bearer(two_nodes.township, org=TOWNSHIP))
    # Alone, the node cannot tell: its own records were made to agree.
    assert local.json()["ok"] is True
    code, result = await verify_with_parent(two_nodes)
    assert code == 1
    assert (result["failure"]["reason"], result["failure"]["seq"], result["failure"]["suspect_to"]) == (
        "truncated",
        5,
        7,
    )


async def test_a_consistent_rewrite_is_caught_against_the_parents_checkpoint(two_nodes: TwoNodes) -> None:
    child = two_nodes.child
    async with child.runtime.uow() as uow:
        rows = list((await uow.session.exec(select(LogEntry).order_by(col(LogEntry.seq)))).all())
        prev = GENESIS_HASH
        for row in rows:
            entry = as_entry(row)
            actor = "someone-else" if entry.seq == 5 else entry.actor
            fixed = sealed(replace(entry, actor=actor, prev_hash=prev))
            row.actor, row.prev_hash, row.hash = fixed.actor, fixed.prev_hash, fixed.hash
            uow.session.add(row)
            prev = fixed.hash
        await uow.commit()
    await cover_tracks(child, 7, keep_checkpoints_to=4)
    local = await child.client.get("/v1/audit/verify", headers=bearer(two_nodes.township, org=TOWNSHIP))
    assert local.json()["ok"] is True
    code, result = await verify_with_parent(two_nodes)
    assert code == 1
    assert result["failure"]["reason"] == "checkpoint_mismatch"
    # Caught at the first checkpoint the parent holds past the change, bounded by the last one before.
    sizes = sorted(cp["size"] for cp in await held(two_nodes))
    first_after = min(size for size in sizes if size >= 5)
    assert result["failure"]["seq"] == first_after
    assert result["failure"]["suspect_from"] <= 5 <= result["failure"]["seq"]


async def test_checkpoints_that_are_not_the_nodes_own_are_refused(two_nodes: TwoNodes) -> None:
    forged = [{**cp, "size": cp["size"] + 1} for cp in await held(two_nodes)][:1]
    response = await two_nodes.child.client.post(
        "/v1/audit/verify",
        json={"checkpoints": forged},
        headers=bearer(two_nodes.township, org=TOWNSHIP),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "checkpoints[0]"


async def test_a_single_county_node_can_stand_in_for_its_parent(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES", "3")
    monkeypatch.setenv("DAIBAN_AUDIT_STAND_IN_FOR_PARENT", "true")
    settings = await network.node(COUNTY)
    async with running("audit", settings) as audit:
        await publish(settings, journey()[:3])

        async def kept() -> list[Any]:
            response = await audit.client.get(
                "/v1/audit/checkpoints", params={"node": COUNTY}, headers=bearer(settings)
            )
            items: list[Any] = response.json()["items"]
            return items

        found = await eventually(kept)
        assert isinstance(found, list)
        (checkpoint,) = found
        assert checkpoint["size"] == 3 and checkpoint["node_org"] == COUNTY
