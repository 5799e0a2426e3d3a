"""HTTP behaviour every service shares: problem+json, org scoping, tracing across the bus."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from daiban_common.auth import Role
from daiban_common.telemetry import trace_id_of
from tests.integration.probe import READER_SPEC, WRITER_SPEC, applied, create_probe_tables
from tests.integration.test_bus import bearer
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def test_error_bodies_are_problem_json(network: Network) -> None:
    settings = await network.node("370285000000")
    async with running(WRITER_SPEC, settings) as writer:
        await create_probe_tables(writer.runtime)
        client = writer.client
        no_token = await client.get("/v1/notes")
        assert no_token.status_code == 401
        assert no_token.headers["content-type"].startswith(PROBLEM)
        assert no_token.json()["status"] == 401

        wrong_role = await client.get("/v1/notes", headers=bearer(settings, Role.auditor))
        assert wrong_role.status_code == 403
        assert wrong_role.headers["content-type"].startswith(PROBLEM)

        invalid = await client.post(
            "/v1/notes", json={"org": "37028510", "text": ""}, headers=bearer(settings)
        )
        assert invalid.status_code == 422
        body = invalid.json()
        assert invalid.headers["content-type"].startswith(PROBLEM)
        assert {e["field"] for e in body["errors"]} == {"org", "text"}
        assert body["instance"] == "/v1/notes"

        broken_json = await client.post(
            "/v1/notes", content=b"{oops", headers={**bearer(settings), "content-type": "application/json"}
        )
        assert broken_json.status_code == 422
        assert broken_json.headers["content-type"].startswith(PROBLEM)

        unknown = await client.get("/v1/nothing-here")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith(PROBLEM)

        huge = await client.post(
            "/v1/notes",
            content=b"x" * (2 * 1024 * 1024),
            headers={**bearer(settings), "content-type": "application/json"},
        )
        assert huge.status_code == 413
        assert huge.headers["content-type"].startswith(PROBLEM)


async def test_a_token_for_one_org_cannot_read_another_orgs_data(network: Network) -> None:
    settings = await network.node("370285000000")
    async with running(WRITER_SPEC, settings) as writer:
        await create_probe_tables(writer.runtime)
        client = writer.client
        town_101 = bearer(settings, org="370285101000")
        town_102 = bearer(settings, org="370285102000")
        created = await client.post(
            "/v1/notes", json={"org": "370285101201", "text": "甲镇"}, headers=town_101
        )
        assert created.status_code == 201
        note_id = created.json()["id"]
        # Writing into another township is refused as if it did not exist.
        refused = await client.post(
            "/v1/notes", json={"org": "370285101201", "text": "越权"}, headers=town_102
        )
        assert refused.status_code == 404

        assert (await client.get(f"/v1/notes/{note_id}", headers=town_101)).status_code == 200
        other = await client.get(f"/v1/notes/{note_id}", headers=town_102)
        assert other.status_code == 404
        assert other.headers["content-type"].startswith(PROBLEM)
        assert (await client.get("/v1/notes", headers=town_102)).json()["items"] == []
        assert len((await client.get("/v1/notes", headers=town_101)).json()["items"]) == 1
        county = bearer(settings, org="370285000000")
        assert len((await client.get("/v1/notes", headers=county)).json()["items"]) == 1


async def test_trace_started_by_http_request_reaches_the_consuming_service(network: Network) -> None:
    settings = await network.node("370285000000")
    writer_spans, reader_spans = InMemorySpanExporter(), InMemorySpanExporter()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    async with (
        running(WRITER_SPEC, settings, span_processors=(SimpleSpanProcessor(writer_spans),)) as writer,
        running(READER_SPEC, settings, span_processors=(SimpleSpanProcessor(reader_spans),)) as reader,
    ):
        await create_probe_tables(writer.runtime)
        response = await writer.client.post(
            "/v1/notes",
            json={"org": "370285101201", "text": "追踪"},
            headers={**bearer(settings, org="370285101000"), "traceparent": traceparent},
        )
        assert response.status_code == 201, response.text
        event_id = response.json()["id"]

        async def applied_row() -> object:
            async with reader.runtime.engine.connect() as conn:
                return (await conn.execute(select(applied).where(applied.c.event_id == event_id))).first()

        row = await eventually(applied_row)
        assert trace_id_of(row.traceparent) == trace_id  # type: ignore[attr-defined]

        def ids(exporter: InMemorySpanExporter, kind_name: str) -> set[str]:
            return {
                format(span.context.trace_id, "032x")
                for span in exporter.get_finished_spans()
                if span.kind.name == kind_name
            }

        await eventually(_async(lambda: trace_id in ids(reader_spans, "CONSUMER")))
        assert trace_id in ids(writer_spans, "SERVER")
        assert trace_id in ids(writer_spans, "PRODUCER")


def _async(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(predicate())

    return check
