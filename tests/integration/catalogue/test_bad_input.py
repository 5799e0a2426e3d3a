"""The issue's bad-input list, and worse: each a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from daiban_common.pagination import encode_cursor, list_tag
from tests.integration.catalogue.drafts import NEW_CODE, keyed, new_item
from tests.servers import RunningService

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
MARRIAGE = "QR-00101-001-370285000000-01"


def fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"promised_working_days": 30}, "promised_working_days"),  # above the statutory 20
        (
            {"kind": "immediate", "statutory_working_days": 0, "promised_working_days": 3},
            "promised_working_days",
        ),
        ({"kind": "joint"}, "departments.others"),  # joint with one department
        ({"departments": {"lead": "county.space_agency"}}, "departments.lead"),
        (
            {"implementing_org": "370283000000", "item_code": "JF-09901-001-370283000000-01"},
            "implementing_org",
        ),
        ({"implementing_org": "37028500000X"}, "implementing_org"),
        ({"base_code": "JF-9901-1"}, "base_code"),
        ({"item_code": "JF-09901-001"}, "item_code"),
        ({"statutory_working_days": 10**30, "promised_working_days": 10**30}, "statutory_working_days"),
        (
            {"materials": [{"code": "M01", "name": "身份证", "form": "copy", "copies": 10**9}]},
            "materials[0].copies",
        ),
        ({"fee": {"free": False, "amount_fen": 2**70, "basis": "x"}}, "fee.amount_fen"),
        ({"kind": "urgent"}, "kind"),
        ({"statutory_working_days": "twenty"}, "statutory_working_days"),
        ({"statutory_working_days": 1.5}, "statutory_working_days"),
        ({"materials": "all of them"}, "materials"),
        ({"name": "结婚\x00登记"}, "name"),
        ({"keywords": ["\ud800"]}, "keywords[0]"),
        ({"version": 3}, "version"),
    ],
)
async def test_bad_drafts_are_422_naming_the_field(
    catalogue: RunningService, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    # json.dumps escapes a lone surrogate as \ud800, as a careless client would send it.
    body = json.dumps(new_item(**changes)).encode()
    response = await catalogue.client.post(
        "/v1/items", content=body, headers={**keyed(admin), "content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert field in fields(response)


async def test_every_violation_is_reported_at_once(catalogue: RunningService, admin: dict[str, str]) -> None:
    bad = new_item(kind="joint", promised_working_days=30, departments={"lead": "county.nowhere"})
    response = await catalogue.client.post("/v1/items", json=bad, headers=keyed(admin))
    assert response.status_code == 422
    assert {"promised_working_days", "departments.lead", "departments.others"} <= fields(response)
    assert all(e["message"] for e in response.json()["errors"])


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"{not json", "application/json", "body"),
        (b"[]", "application/json", "body"),
        (b'"a string"', "application/json", "body"),
        (b"", "application/json", "body"),
    ],
)
async def test_malformed_bodies_are_422(
    catalogue: RunningService, admin: dict[str, str], body: bytes, content_type: str, field: str
) -> None:
    response = await catalogue.client.post(
        "/v1/items", content=body, headers={**keyed(admin), "content-type": content_type}
    )
    assert response.status_code == 422, response.text
    assert field in fields(response)


async def test_draft_edits_and_version_conflicts(catalogue: RunningService, admin: dict[str, str]) -> None:
    client = catalogue.client
    # Editing a published version: impossible, the version is immutable.
    edit_version = await client.patch(
        f"/v1/items/{MARRIAGE}/versions/1", json={"name": "改名"}, headers=admin
    )
    assert edit_version.status_code == 409
    assert fields(edit_version) == {"version"}
    # Publishing a draft that is the current version.
    unchanged = await client.post(f"/v1/items/{MARRIAGE}/publish", headers=keyed(admin))
    assert unchanged.status_code == 409
    assert fields(unchanged) == {"draft"}
    # A patch that breaks a rule, or changes the identity, or carries wrong types.
    cases = [
        ({"promised_working_days": 5}, "promised_working_days"),  # immediate item with promised days
        ({"item_code": "QR-00101-001-370285000000-02"}, "item_code"),
        # The contract's name for it is no HTTP field.
        ({"implementation_code": "QR-00101-001-370285000000-01"}, "implementation_code"),
        ({"materials": [{"code": "M01"}]}, "materials[0].name"),
        ({"name": None}, "name"),
        ({"nonsense": 1}, "nonsense"),
    ]
    for patch, field in cases:
        response = await client.patch(f"/v1/items/{MARRIAGE}", json=patch, headers=admin)
        assert response.status_code == 422, (patch, response.text)
        assert field in fields(response)
    # After a valid edit, delegation and retirement wait for the draft to be published.
    edited = await client.patch(f"/v1/items/{MARRIAGE}", json={"keywords": ["结婚"]}, headers=admin)
    assert edited.status_code == 200, edited.text
    blocked = await client.post(f"/v1/items/{MARRIAGE}/retire", json={"reason": "测试"}, headers=keyed(admin))
    assert blocked.status_code == 409
    assert fields(blocked) == {"draft"}
    past = await client.post(
        f"/v1/items/{MARRIAGE}/publish", json={"effective_date": "2020-01-01"}, headers=keyed(admin)
    )
    assert past.status_code == 422
    assert fields(past) == {"effective_date"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("GET", "/v1/items/not-a-code", None, 422, "item_code"),
        ("GET", "/v1/items/QR-00101-001-370285000000-01%00", None, 422, "item_code"),
        ("GET", "/v1/items/XX-99999-999-370285000000-01", None, 404, None),
        ("GET", "/v1/items/XX-99999-999-370285000000-01/versions", None, 404, None),
        ("GET", f"/v1/items/{MARRIAGE}/versions/99", None, 404, None),
        ("GET", f"/v1/items/{MARRIAGE}/versions/0", None, 422, "version"),
        ("GET", f"/v1/items/{MARRIAGE}/versions/99999999999999999999", None, 422, "version"),
        ("GET", f"/v1/items/{MARRIAGE}/diff?from=1&to=7", None, 422, "to"),
        ("GET", f"/v1/items/{MARRIAGE}/diff?from=abc", None, 422, "from"),
        ("POST", "/v1/items/XX-99999-999-370285000000-01/publish", {}, 404, None),
        ("POST", f"/v1/items/{MARRIAGE}/publish", {"effective_date": "2024-13-45"}, 422, "effective_date"),
        ("POST", f"/v1/items/{MARRIAGE}/publish", {"note": "x", "extra": 1}, 422, "extra"),
        ("POST", f"/v1/items/{MARRIAGE}/delegate", {"to_level": "county", "reason": "x"}, 422, "departments"),
        (
            "POST",
            f"/v1/items/{MARRIAGE}/delegate",
            {"to_level": "county", "departments": {"lead": "county.civil_affairs"}, "reason": "x"},
            422,
            "to_level",
        ),
        (
            "POST",
            f"/v1/items/{MARRIAGE}/delegate",
            {"to_level": "township", "departments": {"lead": "county.civil_affairs"}, "reason": "x"},
            422,
            "departments.lead",
        ),
        ("POST", f"/v1/items/{MARRIAGE}/retire", {"reason": "   "}, 422, "reason"),
        ("PATCH", f"/v1/items/{NEW_CODE}", {"name": "x"}, 404, None),
        ("GET", "/v1/handbook?org=12345", None, 422, "org"),
        ("GET", "/v1/handbook", None, 422, "org"),
        ("GET", "/v1/handbook?org=370283101000", None, 404, None),
        ("GET", "/v1/reform-stats?from=2025-01-01&to=2024-01-01", None, 422, "from"),
        ("GET", "/v1/reform-stats?to=not-a-date", None, 422, "to"),
    ],
)
async def test_bad_paths_and_parameters(
    catalogue: RunningService,
    admin: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str | None,
) -> None:
    headers = keyed(admin) if method == "POST" else admin
    response = await catalogue.client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in fields(response)
    else:
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_idempotency_key_must_be_printable(catalogue: RunningService, admin: dict[str, str]) -> None:
    response = await catalogue.client.post(
        "/v1/items", json=new_item(), headers={**admin, "Idempotency-Key": "x" * 201}
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in fields(response)


@pytest.mark.parametrize("to", ["0", "20261201", "2026-12-1"])
async def test_a_day_is_written_as_a_day(catalogue: RunningService, to: str) -> None:
    # `make fuzz`: `to=0` was read as 1970-01-01 (pydantic reads numbers as Unix time).
    response = await catalogue.client.get("/v1/reform-stats", params={"to": to})
    assert response.status_code == 422, response.text
    assert fields(response) == {"to"}
    assert (await catalogue.client.get("/v1/reform-stats", params={"to": "2026-12-01"})).status_code == 200


async def test_an_effective_date_is_no_number(catalogue: RunningService, admin: dict[str, str]) -> None:
    response = await catalogue.client.post(
        # 2100-01-01 as Unix time: read as that day, it retired the item then.
        f"/v1/items/{MARRIAGE}/retire",
        json={"effective_date": 4102444800, "reason": "测试"},
        headers=keyed(admin),
    )
    assert response.status_code == 422, response.text
    assert fields(response) == {"effective_date"}


@pytest.mark.parametrize("since", ["0.5", "0", "2026-12-01", "2026-12-01T09:00:00"])
async def test_updated_since_is_an_instant_with_its_offset(catalogue: RunningService, since: str) -> None:
    # `make fuzz`: 0.5 was read as half a second after the epoch.
    response = await catalogue.client.get("/v1/items", params={"updated_since": since})
    assert response.status_code == 422, response.text
    assert fields(response) == {"updated_since"}


async def test_a_cursor_only_works_on_the_list_that_issued_it(catalogue: RunningService) -> None:
    first = (await catalogue.client.get("/v1/items", params={"limit": 2})).json()
    own = first["next_cursor"]
    second = await catalogue.client.get("/v1/items", params={"limit": 2, "cursor": own})
    assert second.status_code == 200 and second.json()["items"][0] != first["items"][0]
    # Another list's cursor of the same shape (one string: /v1/orgs sorts by code), and one made
    # before cursors named their list, were both taken silently and paged from a meaningless place.
    foreign = encode_cursor([MARRIAGE], tag=list_tag("/v1/orgs"))
    for cursor in (foreign, encode_cursor([MARRIAGE])):
        response = await catalogue.client.get("/v1/items", params={"cursor": cursor})
        assert response.status_code == 422, response.text
        assert fields(response) == {"cursor"}
    versions = (await catalogue.client.get(f"/v1/items/{MARRIAGE}/versions", params={"limit": 1})).json()
    if versions["next_cursor"] is not None:
        response = await catalogue.client.get("/v1/items", params={"cursor": versions["next_cursor"]})
        assert response.status_code == 422 and fields(response) == {"cursor"}
