"""Text PostgreSQL cannot store and integers beyond bigint: a 422 naming the parameter, not a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.audit.journey import COUNTY, bearer
from tests.servers import RunningService, Servers, new_network, running

pytestmark = pytest.mark.integration

BEYOND_BIGINT = 2**63

Audit = tuple[RunningService, dict[str, str]]


@pytest.fixture(scope="module")
async def audit(migrated: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Audit]:
    network = new_network(migrated, tmp_path_factory.mktemp("audit-bad-input"))
    settings = await network.node(COUNTY)
    async with running("audit", settings) as service:
        yield service, bearer(settings)


def refused(response: Any, field: str) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: list[dict[str, str]] = response.json()["errors"]
    assert field in {e["field"] for e in errors}, response.text
    return errors


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/audit/entries?subject=a%00b", "subject"),
        ("/v1/audit/entries?type=a%00b", "type"),
        ("/v1/audit/entries?actor=a%00b", "actor"),
    ],
)
async def test_nul_in_filters_is_422(audit: Audit, url: str, field: str) -> None:
    service, auditor = audit
    errors = refused(await service.client.get(url, headers=auditor), field)
    assert errors == [{"field": field, "message": "不能包含空字符或无效的Unicode字符"}]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/v1/audit/verify?to_seq={BEYOND_BIGINT}", "to_seq"),
        (f"/v1/audit/verify?from_seq={BEYOND_BIGINT}", "from_seq"),
        (f"/v1/audit/verify?from_seq={BEYOND_BIGINT * 10**20}", "from_seq"),
    ],
)
async def test_integers_beyond_bigint_in_queries_are_422(audit: Audit, url: str, field: str) -> None:
    service, auditor = audit
    refused(await service.client.get(url, headers=auditor), field)


CHECKPOINT = {
    "node_org": COUNTY,
    "node": "n",
    "chain": "main",
    "size": 1,
    "head_hash": "0" * 64,
    "signed_at": "2026-12-01T00:00:00+08:00",
    "public_key": "k",
    "signature": "s",
}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_seq": BEYOND_BIGINT, "checkpoints": []}, "to_seq"),
        ({"from_seq": BEYOND_BIGINT, "checkpoints": []}, "from_seq"),
        ({"checkpoints": [{**CHECKPOINT, "size": BEYOND_BIGINT}]}, "checkpoints[0].size"),
        ({"checkpoints": [{**CHECKPOINT, "node": "a\x00"}]}, "checkpoints[0].node"),
        ({"checkpoints": [{**CHECKPOINT, "signature": "\ud800"}]}, "checkpoints[0].signature"),
    ],
)
async def test_bad_numbers_and_text_in_verify_bodies_are_422(
    audit: Audit, body: dict[str, Any], field: str
) -> None:
    service, auditor = audit
    response = await service.client.post(
        "/v1/audit/verify",
        content=json.dumps(body),
        headers={**auditor, "Content-Type": "application/json"},
    )
    refused(response, field)


def test_schema_shows_the_bounds(audit: Audit) -> None:
    parameters = audit[0].app.openapi()["paths"]["/v1/audit/verify"]["get"]["parameters"]
    to_seq = next(p for p in parameters if p["name"] == "to_seq")["schema"]["anyOf"][0]
    assert (to_seq["minimum"], to_seq["maximum"]) == (1, 2**53 - 1)
