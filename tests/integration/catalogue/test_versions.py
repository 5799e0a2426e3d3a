"""Drafts, publishing with its event, delegation and its reversal, diff, retirement, who may write."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from daiban_common import idempotency
from daiban_common.auth import Role
from daiban_common.idempotency import RETENTION
from daiban_common.settings import Settings
from tests.integration.catalogue.conftest import TOWNSHIP, bearer
from tests.integration.catalogue.drafts import NEW_CODE, Replica, keyed, new_item
from tests.servers import RunningService

pytestmark = pytest.mark.integration

ALLOWANCE = "JF-00405-001-370285000000-01"  # 80周岁以上老年人高龄津贴发放, county, 2 versions


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


async def test_publish_emits_the_version_and_a_replica_sees_it(
    catalogue: RunningService, settings: Settings, admin: dict[str, str]
) -> None:
    client = catalogue.client
    created = await client.post("/v1/items", json=new_item(), headers=keyed(admin))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/items/{NEW_CODE}/draft"
    assert created.json()["status_label"] == "草稿（未发布）"
    # A draft is not public.
    assert (await client.get(f"/v1/items/{NEW_CODE}")).status_code == 404
    assert (await client.get("/v1/items", params={"q": "长寿"})).json()["items"] == []

    async with Replica(settings) as replica:
        await replica.catch_up()
        assert len(replica.items) == 41  # the seed published every demo version
        assert NEW_CODE not in replica.items

        published = await client.post(
            f"/v1/items/{NEW_CODE}/publish", json={"note": "新增事项"}, headers=keyed(admin)
        )
        assert published.status_code == 201, published.text
        assert published.json()["version"] == 1
        assert published.json()["name_initials"] == "90zsyslnrcsbtff"

        edited = await client.patch(
            f"/v1/items/{NEW_CODE}",
            content=json.dumps({"promised_working_days": 5, "fee": {"basis": None}}),
            headers={**admin, "content-type": "application/merge-patch+json"},
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["pending_changes"] == [
            {"field": "promised_working_days", "before": 10, "after": 5}
        ]
        before_second = datetime.now(UTC)
        second = await client.post(f"/v1/items/{NEW_CODE}/publish", headers=keyed(admin))
        assert second.status_code == 201, second.text
        assert second.headers["location"] == f"/v1/items/{NEW_CODE}/versions/2"

        await replica.catch_up()
        seen = replica.items[NEW_CODE]
        assert (seen.version, seen.promised_working_days, seen.previous_version) == (2, 5, 1)
        envelope = replica.envelopes[-1]
        assert envelope.type == "daiban.catalogue.item_published.v1"
        assert (envelope.subject, envelope.org) == (NEW_CODE, "370285000000")
        assert envelope.actor == "admin@370285000000"

    found = (await client.get("/v1/items", params={"q": "changshou"})).json()["items"]
    assert [(i["item_code"], i["version"]) for i in found] == [(NEW_CODE, 2)]
    # Replicas catching up by time see it too.
    since = (await client.get("/v1/items", params={"updated_since": before_second.isoformat()})).json()
    assert [(i["item_code"], i["version"]) for i in since["items"]] == [(NEW_CODE, 2)]


async def test_idempotency_key_replays_and_refuses_another_body(
    catalogue: RunningService, admin: dict[str, str]
) -> None:
    client = catalogue.client
    key = keyed(admin, "create-1")
    first = await client.post("/v1/items", json=new_item(), headers=key)
    again = await client.post("/v1/items", json=new_item(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"] == f"/v1/items/{NEW_CODE}/draft"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other = await client.post("/v1/items", json=new_item(name="另一个事项"), headers=key)
    assert other.status_code == 409
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    assert fields(other) == {"Idempotency-Key"}
    # With another key, a second create of the same code is a plain conflict on the code.
    duplicate = await client.post("/v1/items", json=new_item(), headers=keyed(admin))
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "item_code"

    publish_key = keyed(admin, "publish-1")
    one = await client.post(f"/v1/items/{NEW_CODE}/publish", json={}, headers=publish_key)
    two = await client.post(f"/v1/items/{NEW_CODE}/publish", json={}, headers=publish_key)
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert one.json()["version"] == 1
    versions = (await client.get(f"/v1/items/{NEW_CODE}/versions")).json()
    assert [v["version"] for v in versions["items"]] == [1]


async def test_a_concurrent_retry_waits_and_replays(catalogue: RunningService, admin: dict[str, str]) -> None:
    """Two sends of one request at once: one item, two identical 201s (it was a 409 for one of them)."""
    client = catalogue.client
    key = keyed(admin, "create-twice")
    first, second = await asyncio.gather(
        client.post("/v1/items", json=new_item(), headers=key),
        client.post("/v1/items", json=new_item(), headers=key),
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    assert {first.headers.get("idempotent-replayed"), second.headers.get("idempotent-replayed")} == {
        None,
        "true",
    }
    published = await asyncio.gather(
        *(client.post(f"/v1/items/{NEW_CODE}/publish", json={}, headers=keyed(admin, "p")) for _ in range(3))
    )
    assert [p.status_code for p in published] == [201, 201, 201], [p.text for p in published]
    assert len({p.text for p in published}) == 1
    versions = (await client.get(f"/v1/items/{NEW_CODE}/versions")).json()
    assert [v["version"] for v in versions["items"]] == [1]


async def test_a_creating_post_without_a_key_is_refused(
    catalogue: RunningService, admin: dict[str, str]
) -> None:
    response = await catalogue.client.post("/v1/items", json=new_item(), headers=admin)
    assert response.status_code == 422
    assert fields(response) == {"Idempotency-Key"}
    assert (await catalogue.client.get(f"/v1/items/{NEW_CODE}/draft", headers=admin)).status_code == 404


async def test_delegation_and_its_reversal_are_versions_with_a_diff(
    catalogue: RunningService, admin: dict[str, str]
) -> None:
    client = catalogue.client
    down = await client.post(
        f"/v1/items/{ALLOWANCE}/delegate",
        json={
            "to_level": "township",
            "departments": {"lead": "township.civil_affairs"},
            "reason": "依据赋权目录下放至镇（街道）",
        },
        headers=keyed(admin),
    )
    assert down.status_code == 201, down.text
    moved = down.json()
    assert (moved["version"], moved["handling_level"], moved["handling_level_label"]) == (
        3,
        "township",
        "乡镇（街道）",
    )
    assert moved["delegation"]["from_level"] == "county"
    assert moved["acceptable_tiers"] == ["village", "township"]
    assert moved["where_decided"] == "乡镇（街道）镇（街道）民政办公室办理"

    diff = (await client.get(f"/v1/items/{ALLOWANCE}/diff", params={"from": 2, "to": 3})).json()
    fields = {change["field"]: change for change in diff["changes"]}
    assert fields["handling_level"] == {"field": "handling_level", "before": "county", "after": "township"}
    assert fields["departments.lead"]["after"] == "township.civil_affairs"
    assert set(fields) == {"handling_level", "departments.lead", "acceptable_tiers"}
    # Without parameters: the current version against the one before.
    assert (await client.get(f"/v1/items/{ALLOWANCE}/diff")).json() == diff

    up = await client.post(
        f"/v1/items/{ALLOWANCE}/delegate",
        json={
            "to_level": "county",
            "departments": {"lead": "county.civil_affairs"},
            "reason": "收回县级办理",
        },
        headers=keyed(admin),
    )
    assert up.status_code == 201, up.text
    assert (up.json()["version"], up.json()["handling_level"]) == (4, "county")
    stats = (await client.get("/v1/reform-stats")).json()
    moves = [(d["item_code"], d["direction"]) for d in stats["delegations"]]
    assert (ALLOWANCE, "down") in moves and (ALLOWANCE, "up") in moves
    history = (await client.get(f"/v1/items/{ALLOWANCE}/versions", params={"limit": 2})).json()
    assert [v["version"] for v in history["items"]] == [1, 2]
    rest = (
        await client.get(f"/v1/items/{ALLOWANCE}/versions", params={"cursor": history["next_cursor"]})
    ).json()
    assert [v["version"] for v in rest["items"]] == [3, 4]
    assert rest["items"][0]["delegation"]["reason"] == "依据赋权目录下放至镇（街道）"


async def test_retired_items_leave_search_but_keep_their_versions(
    catalogue: RunningService, admin: dict[str, str]
) -> None:
    client = catalogue.client
    retired = await client.post(
        f"/v1/items/{ALLOWANCE}/retire", json={"reason": "并入新事项"}, headers=keyed(admin)
    )
    assert retired.status_code == 201, retired.text
    assert (retired.json()["status"], retired.json()["status_label"]) == ("retired", "已废止")
    assert (await client.get("/v1/items", params={"q": "高龄津贴"})).json()["items"] == []
    listed = (await client.get("/v1/items", params={"q": "高龄津贴", "status": "retired"})).json()["items"]
    assert [i["version"] for i in listed] == [3]
    assert (await client.get(f"/v1/items/{ALLOWANCE}/versions/2")).json()["status"] == "published"
    again = await client.post(
        f"/v1/items/{ALLOWANCE}/retire", json={"reason": "再次废止"}, headers=keyed(admin)
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "status"


async def test_writes_need_a_county_admin(catalogue: RunningService, settings: Settings) -> None:
    client = catalogue.client
    path = f"/v1/items/{ALLOWANCE}/publish"
    assert (await client.post("/v1/items", json=new_item())).status_code == 401
    assert (await client.post(path, headers={"Authorization": "Bearer nonsense"})).status_code == 401
    clerk = await client.post(path, headers=bearer(settings, Role.clerk))
    assert clerk.status_code == 403
    township_admin = await client.post(path, headers=bearer(settings, Role.admin, TOWNSHIP))
    assert township_admin.status_code == 403
    assert township_admin.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.get(f"/v1/items/{ALLOWANCE}/draft", headers=bearer(settings, Role.clerk))
    ).status_code == 403


async def test_records_older_than_the_retention_are_forgotten(
    catalogue: RunningService, admin: dict[str, str]
) -> None:
    client = catalogue.client
    assert (await client.post("/v1/items", json=new_item(), headers=keyed(admin, "old"))).status_code == 201
    async with catalogue.runtime.engine.begin() as conn:
        await conn.execute(
            text("UPDATE catalogue.idempotency SET created_at = now() - CAST(:age AS interval)"),
            {"age": RETENTION + timedelta(minutes=1)},
        )
    # The next creating POST deletes what has outlived the retention, and records itself (the purge
    # runs at most once a second per process: another test of this process may just have run it).
    idempotency._last_purge.clear()
    published = await client.post(f"/v1/items/{NEW_CODE}/publish", json={}, headers=keyed(admin, "new"))
    assert published.status_code == 201, published.text
    async with catalogue.runtime.engine.connect() as conn:
        keys = (await conn.execute(text("SELECT key FROM catalogue.idempotency"))).scalars().all()
    assert keys == ["new"]
