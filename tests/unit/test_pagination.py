"""Keyset pagination: limits, opaque cursors, and walking a list page by page."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.engine import Engine

from daiban_common.error_handlers import install_error_handlers
from daiban_common.errors import InvalidInput
from daiban_common.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Page,
    PageParams,
    PageParamsDep,
    after_clause,
    decode_cursor,
    encode_cursor,
    list_tag,
    paginate,
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- cursors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [["2025-01-02T08:00:00+08:00", "0190f2a4-0000-7000-8000-000000000001"], [42], ["甲", None, -7]],
)
def test_cursor_roundtrip(values: list[str | int | None]) -> None:
    cursor = encode_cursor(values)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert decode_cursor(cursor) == values


def test_cursor_accepts_padding() -> None:
    cursor = encode_cursor(["ab"])
    assert decode_cursor(cursor + "=" * (-len(cursor) % 4)) == ["ab"]


def test_encode_cursor_stringifies_rich_keys() -> None:
    moment = datetime(2025, 1, 2, 8, 0, 0, 123456, tzinfo=UTC)
    ident = UUID("0190f2a4-0000-7000-8000-000000000001")
    cursor = encode_cursor([moment, ident, date(2025, 1, 2)])
    assert decode_cursor(cursor) == [moment.isoformat(), str(ident), "2025-01-02"]
    assert PageParams(cursor=tuple(decode_cursor(cursor))).key(datetime, UUID, date) == (
        moment,
        ident,
        date(2025, 1, 2),
    )


@pytest.mark.parametrize("bad", [[], [True], [1.5], [2**63], [["nested"]], [{"a": 1}]])
def test_encode_cursor_refuses_what_cannot_round_trip(bad: list[Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        encode_cursor(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "!!!!",
        "a",
        "abc$",
        b64(b"\xff\xfe"),
        b64(b"not json"),
        b64(b'{"a": 1}'),
        b64(b"[]"),
        b64(b"[1.5]"),
        b64(b"[true]"),
        b64(b'[["x"]]'),
        b64(json.dumps([2**63]).encode()),
        b64(json.dumps(["x" * 2000]).encode()),
    ],
)
def test_garbled_cursor_is_invalid_input(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(raw)
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["cursor"]
    assert "游标" in caught.value.errors[0].message


def test_typed_key_checks_shape() -> None:
    assert PageParams().key(int) is None
    params = PageParams(cursor=("2025-01-02T08:00:00+08:00", 7))
    assert params.key(datetime, int) == (datetime(2025, 1, 2, tzinfo=UTC), 7)
    for kinds in ((datetime,), (datetime, int, str), (int, int), (datetime, str), (date, int)):
        with pytest.raises(InvalidInput):
            params.key(*kinds)
    with pytest.raises(InvalidInput):
        PageParams(cursor=("not-a-uuid",)).key(UUID)
    with pytest.raises(InvalidInput):
        PageParams(cursor=(None,)).key(str)
    with pytest.raises(TypeError):
        params.key(float, int)


# --- pages ---------------------------------------------------------------------------------------


def test_paginate_splits_off_the_extra_row() -> None:
    rows = [{"n": n} for n in range(21)]
    page, cursor = paginate(rows, 20, key=lambda row: (row["n"],))
    assert page == rows[:20]
    assert cursor is not None and decode_cursor(cursor) == [19]

    page, cursor = paginate(rows[:20], 20, key=lambda row: (row["n"],))
    assert page == rows[:20] and cursor is None
    assert paginate([], 20, key=lambda row: (row,)) == ([], None)


class Item(BaseModel):
    code: str


def test_page_omits_total_unless_given() -> None:
    page = Page[Item](items=[Item(code="A")], next_cursor=None)
    assert page.model_dump(mode="json") == {"items": [{"code": "A"}], "next_cursor": None}
    counted = Page[Item](items=[], next_cursor="abc", total=0)
    assert counted.model_dump(mode="json") == {"items": [], "next_cursor": "abc", "total": 0}


# --- over HTTP -----------------------------------------------------------------------------------

NUMBERS = list(range(1, 46))


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/v1/items")
    async def list_items(page: PageParamsDep) -> Page[Item]:
        after = page.key(int)
        candidates = [n for n in NUMBERS if after is None or n > after[0]]
        rows, next_cursor = paginate(candidates[: page.limit + 1], page, key=lambda n: (n,))
        return Page(items=[Item(code=f"I{n}") for n in rows], next_cursor=next_cursor)

    @app.get("/v1/codes")
    async def list_codes(page: PageParamsDep) -> Page[Item]:
        # Same key shape as /v1/items: only the list tag tells their cursors apart.
        after = page.key(int)
        candidates = [n for n in NUMBERS if after is None or n > after[0]]
        rows, next_cursor = paginate(candidates[: page.limit + 1], page, key=lambda n: (n,))
        return Page(items=[Item(code=f"C{n}") for n in rows], next_cursor=next_cursor)

    @app.get("/v1/counted")
    async def counted(page: PageParamsDep) -> Page[Item]:
        return Page(items=[], next_cursor=None, total=len(NUMBERS))

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_default_limit(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/items")).json()
    assert len(body["items"]) == DEFAULT_LIMIT
    assert body["next_cursor"] is not None
    assert "total" not in body


async def test_walk_every_page(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 7}
    for _ in range(10):
        response = await client.get("/v1/items", params=params)
        assert response.status_code == 200
        body = response.json()
        seen += [item["code"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [f"I{n}" for n in NUMBERS]


async def test_empty_cursor_means_first_page(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/items", params={"cursor": "", "limit": 1})).json()
    assert body["items"] == [{"code": "I1"}]


async def test_total_where_given(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/counted")).json() == {"items": [], "next_cursor": None, "total": 45}


@pytest.mark.parametrize(
    ("limit", "message"), [(MAX_LIMIT + 1, "不能大于100"), (0, "不能小于1"), ("x", "应为整数")]
)
async def test_bad_limit_is_422_not_capped(client: httpx.AsyncClient, limit: Any, message: str) -> None:
    response = await client.get("/v1/items", params={"limit": limit})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"field": "limit", "message": message}]


async def test_max_limit_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/items", params={"limit": MAX_LIMIT})
    assert response.status_code == 200
    assert len(response.json()["items"]) == len(NUMBERS)


@pytest.mark.parametrize(
    "cursor", ["%%%", b64(b"[1"), encode_cursor(["I7"]), encode_cursor([1, 2]), "x" * 2000]
)
async def test_bad_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/v1/items", params={"cursor": cursor})
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation"
    assert body["instance"] == "/v1/items"
    assert [e["field"] for e in body["errors"]] == ["cursor"]


async def test_a_cursor_from_another_list_is_422(client: httpx.AsyncClient) -> None:
    cursor = (await client.get("/v1/items", params={"limit": 3})).json()["next_cursor"]
    assert (await client.get("/v1/items", params={"cursor": cursor})).status_code == 200
    response = await client.get("/v1/codes", params={"cursor": cursor})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    # An unbound cursor (no list named) is refused too: it could come from any list.
    untagged = await client.get("/v1/items", params={"cursor": encode_cursor([3])})
    assert untagged.status_code == 422


def test_cursor_tags() -> None:
    tag = list_tag("/v1/items")
    assert tag == list_tag("/v1/items") != list_tag("/v1/orgs") and len(tag) == 8
    cursor = encode_cursor([7, "a"], tag=tag)
    assert decode_cursor(cursor, tag=tag) == [7, "a"]
    for other in (list_tag("/v1/orgs"), list_tag("/v1/items/")):
        with pytest.raises(InvalidInput):
            decode_cursor(cursor, tag=other)
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor([7, "a"]), tag=tag)
    # Shaped like a tagged cursor but not one.
    for payload in ({"l": tag}, {"l": tag, "k": []}, {"l": tag, "k": [1], "x": 1}, {"l": tag, "k": [True]}):
        with pytest.raises(InvalidInput):
            decode_cursor(b64(json.dumps(payload).encode()), tag=tag)


def test_paginate_binds_the_cursor_to_the_request_list() -> None:
    page = PageParams(limit=2, tag=list_tag("/v1/items"))
    rows, cursor = paginate([1, 2, 3], page, key=lambda n: (n,))
    assert rows == [1, 2] and cursor is not None
    assert decode_cursor(cursor, tag=page.tag) == [2]


def test_openapi_documents_the_list_parameters() -> None:
    schema = build_app().openapi()
    parameters = {p["name"]: p for p in schema["paths"]["/v1/items"]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert parameters["limit"]["schema"]["default"] == DEFAULT_LIMIT
    assert "cursor" in parameters


# --- keyset SQL ----------------------------------------------------------------------------------

metadata = MetaData()
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("accepted_at", DateTime, nullable=False),
    Column("number", String, nullable=False),
)


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    start = datetime(2025, 3, 1, 8, 0)
    with engine.begin() as conn:
        # Several rows share a timestamp, so the id has to break ties.
        conn.execute(
            cases.insert(),
            [
                {"id": i, "accepted_at": start + timedelta(hours=i // 3), "number": f"C{i:03}"}
                for i in range(1, 32)
            ],
        )
    yield engine
    engine.dispose()


@pytest.mark.parametrize("descending", [False, True])
def test_keyset_walk_over_sql(engine: Engine, descending: bool) -> None:
    order = (
        [cases.c.accepted_at.desc(), cases.c.id.desc()] if descending else [cases.c.accepted_at, cases.c.id]
    )
    seen: list[str] = []
    params = PageParams(limit=4)
    with engine.connect() as conn:
        for _ in range(20):
            stmt = select(cases).order_by(*order).limit(params.limit + 1)
            after = params.key(datetime, int)
            if after is not None:
                stmt = stmt.where(
                    after_clause([cases.c.accepted_at, cases.c.id], after, descending=descending)
                )
            rows, cursor = paginate(
                list(conn.execute(stmt)), params.limit, key=lambda r: (r.accepted_at, r.id)
            )
            seen += [row.number for row in rows]
            if cursor is None:
                break
            params = PageParams(limit=4, cursor=tuple(decode_cursor(cursor)))
    expected = [f"C{i:03}" for i in range(1, 32)]
    assert seen == (expected[::-1] if descending else expected)


def test_after_clause_single_column_and_errors() -> None:
    assert str(after_clause([cases.c.id], [5])) == "cases.id > :id_1"
    assert str(after_clause([cases.c.id], [5], descending=True)) == "cases.id < :id_1"
    assert str(after_clause([cases.c.accepted_at, cases.c.id], [datetime(2025, 1, 1), 5])) == (
        "(cases.accepted_at, cases.id) > (:param_1, :param_2)"
    )
    with pytest.raises(ValueError):
        after_clause([cases.c.id], [1, 2])
    with pytest.raises(ValueError):
        after_clause([cases.c.id], [None])
