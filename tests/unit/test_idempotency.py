"""The platform's Idempotency-Key: fingerprints, operations, replayed answers, and the four OpenAPI
documents (every creating POST declares the header, spelt one way, and documents its replay)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import Request

from daiban_common.app import create_app
from daiban_common.errors import Conflict
from daiban_common.idempotency import (
    HEADER,
    KEY_PATTERN,
    KEY_REUSED,
    REPLAYED_HEADER,
    Answer,
    IdempotencyKey,
    canonical_body,
    fingerprint,
    idempotency_table,
    key_reused,
    once,
    operation_of,
)
from daiban_common.service import discover_services
from daiban_common.settings import Settings

# POSTs that create nothing a retry could duplicate, each with the reason.
NOT_CREATING = {
    # Transitions of an existing task: a repeat meets the state rule (409), never applies twice.
    "routing": {
        "POST /v1/tasks/{task_id}/claim",
        "POST /v1/tasks/{task_id}/decide",
        "POST /v1/tasks/{task_id}/pause",
        "POST /v1/tasks/{task_id}/resume",
        "POST /v1/tasks/{task_id}/reassign",
        # Upserts: the same CSV again changes nothing (`unchanged` counts it).
        "POST /v1/departments/import",
        "POST /v1/windows/import",
        "POST /v1/staff/import",
    },
    # A verification that reads the log; the body is its question.
    "audit": {"POST /v1/audit/verify"},
    "intake": {
        # A repeat meets 409 (ids are never reused); its answer holds a token, which must never be
        # kept in an idempotency record.
        "POST /v1/systems",
        # A new token on every call, by design, the old one dead.
        "POST /v1/systems/{system}/token",
        # Idempotent by each event's own id (the inbox): a repeat answers `duplicate`.
        "POST /v1/ingress/events",
    },
}
# Citizens without an app file here (a public web form may send no key): the key is optional.
OPTIONAL = {"POST /v1/public/evaluations", "POST /v1/complaints"}


class Body(BaseModel):
    name: str
    count: int


def test_a_fingerprint_ignores_key_order_but_not_content_or_target() -> None:
    one = fingerprint("POST", "/v1/items", {"a": 1, "b": [1, 2]})
    assert one == fingerprint("post", "/v1/items", {"b": [1, 2], "a": 1})
    assert one != fingerprint("POST", "/v1/items", {"a": 1, "b": [2, 1]})
    assert one != fingerprint("POST", "/v1/items/x", {"a": 1, "b": [1, 2]})
    assert one != fingerprint("PUT", "/v1/items", {"a": 1, "b": [1, 2]})
    assert len(one) == 64


def test_a_model_is_fingerprinted_as_its_json_and_text_as_its_bytes() -> None:
    assert canonical_body(Body(name="民政", count=2)) == canonical_body({"count": 2, "name": "民政"})
    assert canonical_body("org,code\n") == canonical_body(b"org,code\n") == b"org,code\n"
    assert fingerprint("POST", "/x", None) != fingerprint("POST", "/x", {})


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/cases/{number}/visit")
    async def visit(number: str, body: Body, request: Request, key: IdempotencyKey) -> dict[str, Any]:
        made = once(request, "agent-1", key, body)
        return {"operation": made.operation, "fingerprint": made.fingerprint, "scope": made.scope}

    return app


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test")


async def test_the_operation_is_the_route_template_and_the_fingerprint_the_concrete_path() -> None:
    body = {"name": "a", "count": 1}
    async with _client() as client:
        one = (await client.post("/v1/cases/A1/visit", json=body, headers={HEADER: "k"})).json()
        two = (await client.post("/v1/cases/B2/visit", json=body, headers={HEADER: "k"})).json()
    assert one["operation"] == two["operation"] == "POST /v1/cases/{number}/visit"
    assert one["fingerprint"] != two["fingerprint"]
    assert one["scope"] == "agent-1"


@pytest.mark.parametrize("key", ["", "two words", "x" * 201, "\x7f"])
async def test_a_key_is_printable_ascii_up_to_200_characters(key: str) -> None:
    body = {"name": "a", "count": 1}
    async with _client() as client:
        assert (await client.post("/v1/cases/A1/visit", json=body, headers={HEADER: key})).status_code == 422
        missing = await client.post("/v1/cases/A1/visit", json=body)
        assert missing.status_code == 422
        assert (await client.post("/v1/cases/A1/visit", json=body, headers={HEADER: "x" * 200})).is_success


def test_operation_of_falls_back_to_the_path_without_a_route() -> None:
    request = Request({"type": "http", "method": "POST", "path": "/v1/x", "headers": [], "query_string": b""})
    assert operation_of(request) == "POST /v1/x"


def test_a_replayed_answer_says_so_and_keeps_status_body_and_location() -> None:
    answer = Answer(201, {"id": "民政"}, headers={"Location": "/v1/items/x"})
    first = answer.response()
    assert first.status_code == 201 and REPLAYED_HEADER.lower() not in first.headers
    again = Answer(201, {"id": "民政"}, headers={"Location": "/v1/items/x"}, replayed=True).response()
    assert again.status_code == 201 and again.body == first.body
    assert again.headers["location"] == "/v1/items/x" and again.headers[REPLAYED_HEADER] == "true"


def test_a_reused_key_is_a_409_naming_the_header() -> None:
    problem = key_reused()
    assert isinstance(problem, Conflict)
    assert [e.field for e in problem.errors] == [HEADER]
    assert "Idempotency-Key" in problem.detail
    documented = KEY_REUSED.body()
    assert documented["type"] == problem.type and documented["detail"] == problem.detail
    assert documented["errors"] == [{"field": HEADER, "message": problem.errors[0].message}]


def test_the_table_is_one_per_schema() -> None:
    from sqlalchemy import MetaData

    metadata = MetaData()
    table = idempotency_table("unit_idem", metadata)
    assert table is idempotency_table("unit_idem", metadata)
    assert [c.name for c in table.primary_key.columns] == ["scope", "operation", "key"]
    assert table.schema == "unit_idem"


# ---- the four OpenAPI documents


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    var = tmp_path_factory.mktemp("openapi-idem")
    settings = Settings(
        var_dir=Path(var),
        database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
        nats_url="nats://127.0.0.1:9",
    )
    return {name: create_app(spec, settings).openapi() for name, spec in discover_services().items()}


def _posts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"POST {path}": item["post"] for path, item in document["paths"].items() if "post" in item}


def test_the_four_services_are_walked(documents: dict[str, dict[str, Any]]) -> None:
    assert set(documents) >= {"intake", "catalogue", "routing", "audit"}


@pytest.mark.parametrize("service", sorted(discover_services()))
def test_every_creating_post_declares_the_key_spelt_one_way(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    document = documents[service]
    text = json.dumps(document)
    # One spelling, everywhere: no `idempotency-key` or `Idempotency-key` anywhere in the document.
    spellings = {p["name"] for op in _posts(document).values() for p in op.get("parameters", [])}
    assert not {s for s in spellings if s.lower() == HEADER.lower() and s != HEADER}
    assert "idempotency-key" not in text.replace(HEADER, "").lower().replace("idempotency-key-reused", "")
    for name, operation in _posts(document).items():
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        if name in NOT_CREATING.get(service, set()):
            assert HEADER not in headers, name
            continue
        assert HEADER in headers, f"{service}: {name} creates something but takes no {HEADER}"
        assert headers[HEADER]["required"] is (name not in OPTIONAL), name
        schema = headers[HEADER]["schema"]
        schema = next((o for o in schema.get("anyOf", []) if o.get("type") == "string"), schema)
        assert (schema["maxLength"], schema["pattern"]) == (200, KEY_PATTERN), name
        responses = operation["responses"]
        successes = [status for status in responses if status.startswith("2")]
        assert successes, name
        for status in successes:
            assert REPLAYED_HEADER in responses[status].get("headers", {}), f"{name} {status}"
        examples = responses["409"]["content"]["application/problem+json"]
        types = [e["value"]["type"] for e in examples.get("examples", {}).values()] or [
            examples.get("example", {}).get("type")
        ]
        assert "/problems/idempotency-key-reused" in types, name


def test_a_result_is_presented_once_for_the_stored_answer_and_the_response() -> None:
    """A presenter may sign a link with the time: the answer stored for a retry and the one sent
    must be the very same, however late the response is rendered."""
    from itertools import count

    from daiban_common.idempotency import Answer, Answering

    ticks = count()
    answering: Answering[object] = Answering(
        lambda result: Answer(201, {"url": f"/receipt?expires={next(ticks)}"})
    )
    result, other = object(), object()
    stored = answering(result)
    assert answering.respond(result).body == stored.response().body
    assert answering(other).body != stored.body  # another result is presented anew
