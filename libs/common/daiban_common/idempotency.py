"""Idempotency-Key on the POSTs that create something: a retry replays, a reused key is a 409.

Village links drop mid-request and the phone retries with the same key. One table per service
schema (defined here, like the messaging tables, and created by each service's migrations) holds
the answer given to each (scope, operation, key):

- `replay(uow, once)` first takes a transaction-scoped advisory lock on that triple, so a second,
  concurrent retry waits for the first to commit and then replays its answer instead of racing it;
  a key already used with another body (or another target) is a 409 naming `Idempotency-Key`.
- `remember(uow, once, answer)` writes the answer in the same unit of work as the change and its
  outbox events: a request either happened and can be replayed, or did not happen at all.
- `claim` and `settle` (acceptance's pair) do the same in a round trip fewer: the record inserted
  first, as the lock, its answer written last (in the handler's last statement, `settling`).
- A replay answers the stored status, body and headers (e.g. Location) plus `Idempotent-Replayed: true`.

Rows live `RETENTION` (30 days, long enough for a phone that queued its requests offline); a
`remember` deletes a bounded batch of older ones, skipping rows another transaction holds, at most
once per `PURGE_EVERY` seconds per schema and process (not a statement on every creating POST).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Final, Generic, TypeVar, overload

import asyncpg
from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Insert,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert

from daiban_common.errors import Conflict, FieldError
from daiban_common.messaging import defined_once
from daiban_common.openapi import ProblemDoc
from daiban_common.uow import Prepared, UnitOfWork

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
KEY_PATTERN: Final = r"^[\x21-\x7e]+$"
KEY_MAX_LENGTH: Final = 200
RETENTION: Final = timedelta(days=30)
# Old rows deleted per purge, at most one purge per PURGE_EVERY seconds: up to 1,000 rows/s, more
# than any plausible rate of creating POSTs 30 days earlier.
PURGE_BATCH: Final = 1_000
PURGE_EVERY: Final = 1.0
_last_purge: dict[str, float] = {}
JSON: Final = "application/json"
PROBLEM_JSON: Final = "application/problem+json"
# Response headers worth replaying; the rest (Date, Content-Length, ...) are per response.
KEPT_HEADERS: Final = ("location", "etag", "content-location")

KEY_DOC: Final = (
    "Chosen by the client, one per request it means (printable ASCII, at most 200 characters). "
    "Retrying with the same key and body replays the first answer (same status and body, plus "
    "`Idempotent-Replayed: true`); the same key with another body is a 409."
)

IdempotencyKey = Annotated[
    str,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Required. " + KEY_DOC,
    ),
]
# Only where a citizen without an app files (a public web form may not send it): then no replay.
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Recommended. " + KEY_DOC,
    ),
]


def idempotency_table(schema: str, metadata: MetaData | None = None) -> Table:
    """The `idempotency` table of `schema` (defined once per metadata; a service's models declare it)."""
    return defined_once("idempotency", schema, metadata, lambda md: _define(schema, md))


def _define(schema: str, metadata: MetaData) -> Table:
    return Table(
        "idempotency",
        metadata,
        # Whose key: the caller's `sub`, or `public` for citizens without a token.
        Column("scope", String(200), nullable=False),
        # The route template, e.g. `POST /v1/items/{code}/publish`.
        Column("operation", String(200), nullable=False),
        Column("key", String(KEY_MAX_LENGTH), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("media_type", String(64), nullable=False),
        # The JSON as sent, as text: JSONB would reorder its keys, and a replay is byte for byte.
        Column("body", Text, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("scope", "operation", "key"),
        # What the purge walks.
        Index(f"ix_{schema}_idempotency_created_at", "created_at"),
        schema=schema,
    )


@dataclass(frozen=True)
class Once:
    """A request that must take effect at most once: whose key, on which operation, asking what."""

    scope: str
    operation: str
    key: str
    fingerprint: str

    @property
    def lock_id(self) -> str:
        return f"{self.scope}\n{self.operation}\n{self.key}"


@dataclass(frozen=True)
class Answer:
    """What a creating POST answered, as sent (and as replayed)."""

    status_code: int
    body: Any
    media_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: bool = False

    @functools.cached_property
    def rendered(self) -> str:
        """The body as sent: rendered once, for the response and for the stored replay alike."""
        return _rendered(self.body)

    def response(self) -> Response:
        headers = dict(self.headers)
        if self.replayed:
            headers[REPLAYED_HEADER] = "true"
        return Response(
            self.rendered.encode(), status_code=self.status_code, media_type=self.media_type, headers=headers
        )


def _rendered(body: Any) -> str:
    # As Starlette's JSONResponse renders it (what answers were sent as before they were rendered
    # here once), so the replayed bytes are the ones first sent.
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def canonical_body(body: Any) -> bytes:
    """The bytes a fingerprint covers: JSON with sorted keys (so key order does not matter), or raw text."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of the request: the same key with another body or target is another request."""
    return hashlib.sha256(f"{method.upper()} {path}\n".encode() + canonical_body(body)).hexdigest()


def operation_of(request: Request) -> str:
    """`METHOD /route/{template}` of the request (the concrete path when no route matched)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"


@overload
def once(request: Request, scope: str, key: str, body: Any) -> Once: ...
@overload
def once(request: Request, scope: str, key: str | None, body: Any) -> Once | None: ...
def once(request: Request, scope: str, key: str | None, body: Any) -> Once | None:
    """The request as an at-most-once one; None when an optional key was not sent."""
    if key is None:
        return None
    return Once(scope, operation_of(request), key, fingerprint(request.method, request.url.path, body))


_REUSED_DETAIL: Final = "该幂等键（Idempotency-Key）已用于另一个请求，请为新请求使用新的键"
_REUSED_FIELD: Final = "同一幂等键只能用于同一请求（相同的地址与内容）"
_REUSED_TYPE: Final = "/problems/idempotency-key-reused"
KEY_REUSED: Final = ProblemDoc(
    409,
    "The Idempotency-Key was used before with another body (a retry with the same body replays)",
    detail=_REUSED_DETAIL,
    type=_REUSED_TYPE,
    title="Idempotency key reused",
    errors=[(HEADER, _REUSED_FIELD)],
)


def key_reused() -> Conflict:
    return Conflict(
        _REUSED_DETAIL,
        type=_REUSED_TYPE,
        title="Idempotency key reused",
        errors=[FieldError(HEADER, _REUSED_FIELD)],
    )


@dataclass(frozen=True)
class _Statements:
    """A schema's idempotency statements, compiled once: run on the driver (uow.Prepared)."""

    lock: Prepared
    find: Prepared
    keep: Prepared
    claim: Prepared
    settle: Prepared


@functools.cache
def _statements(schema: str) -> _Statements:
    table = idempotency_table(schema)
    c = table.c
    return _Statements(
        lock=Prepared(
            select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("lock_id", type_=String), 0)))
        ),
        find=Prepared(
            select(c.fingerprint, c.status_code, c.media_type, c.body, c.headers).where(
                c.scope == bindparam("scope"),
                c.operation == bindparam("operation"),
                c.key == bindparam("key"),
            )
        ),
        keep=Prepared(keeping(schema)),
        # The record with a placeholder answer (never committed: `settle` writes the answer).
        claim=Prepared(claiming(schema)),
        settle=Prepared(settling(schema)),
    )


def claiming(schema: str) -> Insert:
    """The record with a placeholder answer (never committed: `settle` writes the answer), a row
    returned if it was inserted; its parameters `claimed(once)`. A CTE of a handler's statement
    that does the first of its work only when the key is new (`claim`'s `statement`)."""
    c = idempotency_table(schema).c
    return (
        pg_insert(c.scope.table)
        .values(
            {name: bindparam(f"kept_{name}", type_=c[name].type) for name in _KEY_COLUMNS}
            | {"status_code": 0, "media_type": "", "body": "", "headers": {}}
        )
        .on_conflict_do_nothing()
        .returning(c.status_code)
    )


def claimed(once: Once) -> dict[str, Any]:
    """The parameters of `claiming`."""
    return {f"kept_{name}": getattr(once, name) for name in _KEY_COLUMNS}


def settling(schema: str) -> Update:
    """The answer written into the record `claim` inserted, its parameters those of `keeping`:
    what `settle` runs, and what a handler can make a CTE of its last statement."""
    c = idempotency_table(schema).c
    return (
        update(c.scope.table)
        .where(*(c[name] == bindparam(f"kept_{name}", type_=c[name].type) for name in _KEY_COLUMNS))
        .values({name: bindparam(f"kept_{name}", type_=c[name].type) for name in _ANSWER_COLUMNS})
    )


def keeping(schema: str) -> Insert:
    """The record's INSERT, its parameters named `kept_<column>` (`kept` gives them): what
    `remember` runs, and what a handler can make a CTE of its last statement (no round trip of its own)."""
    c = idempotency_table(schema).c
    return insert(c.scope.table).values(
        {name: bindparam(f"kept_{name}", type_=c[name].type) for name in _KEPT_COLUMNS}
    )


def kept(once: Once, answer: Answer) -> dict[str, Any]:
    """The parameters of `keeping`: the answer to replay for `once`."""
    headers = {name: value for name, value in answer.headers.items() if name.lower() in KEPT_HEADERS}
    return {
        "kept_scope": once.scope,
        "kept_operation": once.operation,
        "kept_key": once.key,
        "kept_fingerprint": once.fingerprint,
        "kept_status_code": answer.status_code,
        "kept_media_type": answer.media_type,
        "kept_body": answer.rendered,
        "kept_headers": headers,
    }


_KEY_COLUMNS: Final = ("scope", "operation", "key", "fingerprint")
_ANSWER_COLUMNS: Final = ("status_code", "media_type", "body", "headers")
_KEPT_COLUMNS: Final = _KEY_COLUMNS + _ANSWER_COLUMNS


async def replay(uow: UnitOfWork, once: Once | None) -> Answer | None:
    """The stored answer if this request was made before; 409 if the key was used for another.

    Call it first inside the unit of work: the advisory lock it takes is held until that unit
    commits or rolls back, which is what serialises two concurrent retries of one request.
    """
    if once is None:
        return None
    statements = _statements(uow.tables.schema)
    # On the unit's own connection (the same transaction as the change to come), as fixed SQL.
    await uow.execute(statements.lock, {"lock_id": once.lock_id})
    row = await uow.fetchrow(
        statements.find, {"scope": once.scope, "operation": once.operation, "key": once.key}
    )
    return None if row is None else _stored(row, once)


@dataclass(frozen=True)
class Claimed:
    """The key is this unit's: what the claiming statement returned."""

    row: asyncpg.Record


async def claim(
    uow: UnitOfWork, once: Once, statement: Prepared | None = None, params: Mapping[str, Any] | None = None
) -> Answer | Claimed:
    """`replay` in one statement when the key is new (nearly always): the stored answer if this
    request was made before, 409 if the key was used for another; else the key is this unit's
    and `settle` (or `settling` in the handler's last statement) must write its answer.

    The record is inserted at once with a placeholder answer. Its uncommitted key makes a
    concurrent retry's insert wait until this unit commits or rolls back, as replay's advisory
    lock does; the retry's insert then does nothing (or inserts, after a rollback), and its lookup
    is a statement of its own, so that it sees the committed answer (a lookup in the waiting
    statement itself would read the snapshot taken before the wait: why replay's are two).

    `statement` (with `params`, besides `claimed(once)`'s) is a handler's own with `claiming` as
    a CTE, returning a row only when the key was claimed: its first work in the same round trip.
    """
    statements = _statements(uow.tables.schema)
    args = claimed(once) | dict(params or {})
    where = {"scope": once.scope, "operation": once.operation, "key": once.key}
    # A committed record can vanish between the two (the purge of old ones): then claim again.
    for _ in range(3):
        if (row := await uow.fetchrow(statement or statements.claim, args)) is not None:
            return Claimed(row)
        if (found := await uow.fetchrow(statements.find, where)) is not None:
            return _stored(found, once)
    raise RuntimeError(f"the idempotency record of {once.lock_id!r} keeps vanishing")


def _stored(row: Mapping[str, Any], once: Once) -> Answer:
    if row["fingerprint"] != once.fingerprint:
        raise key_reused()
    return Answer(
        row["status_code"], json.loads(row["body"]), row["media_type"], dict(row["headers"]), replayed=True
    )


async def settle(uow: UnitOfWork, once: Once, answer: Answer) -> None:
    """Write the answer into the record `claim` inserted, and forget old ones."""
    await uow.execute(_statements(uow.tables.schema).settle, kept(once, answer))
    await forget_old(uow)


async def remember(uow: UnitOfWork, once: Once | None, answer: Answer) -> None:
    """Record the answer in the unit of work (committed with the change), and forget old ones."""
    if once is None:
        return
    await uow.execute(_statements(uow.tables.schema).keep, kept(once, answer))
    await forget_old(uow)


async def forget_old(uow: UnitOfWork) -> None:
    """Purge old records now and then (at most once per PURGE_EVERY per schema and process); what
    `remember` does after its record, and a handler that wrote the record itself (`keeping`) calls."""
    table = idempotency_table(uow.tables.schema)
    now = time.monotonic()
    if now - _last_purge.get(table.fullname, -PURGE_EVERY) >= PURGE_EVERY:
        _last_purge[table.fullname] = now
        await purge(uow, RETENTION, limit=PURGE_BATCH)


async def purge(uow: UnitOfWork, older_than: timedelta, *, limit: int | None = None) -> int:
    """Delete records older than `older_than` (at most `limit`), skipping rows others hold locked."""
    table = idempotency_table(uow.tables.schema)
    cutoff = func.now() - text(f"interval '{int(older_than.total_seconds())} seconds'")
    old: Select[Any] = (
        select(literal_column("ctid"))
        .select_from(table)
        .where(table.c.created_at < cutoff)
        .with_for_update(skip_locked=True)
        .limit(limit)
    )
    conn = await uow.session.connection()
    result = await conn.execute(delete(table).where(literal_column("ctid").in_(old.scalar_subquery())))
    return int(result.rowcount or 0)


# ---------------------------------------------------------------------------------------------
# Handlers stay free of HTTP: a creating POST's handler is given how the route answers its result
# (an `Answering`), stores that answer with its change (`remember`, for retries under the same
# Idempotency-Key) and returns the result, or `Replayed` on a retry. The route sends either.

R = TypeVar("R")
# How a result becomes the answer sent (and stored for replays).
AnswerOf = Callable[[R], Answer]


@dataclass(frozen=True)
class Replayed:
    """A retry under the same Idempotency-Key: nothing was done again; this is the first answer."""

    answer: Answer


class Answering(Generic[R]):
    """How a route answers a handler's result: given to the handler to store, then sent."""

    def __init__(self, present: AnswerOf[R]) -> None:
        self._present = present
        self._given: tuple[R, Answer] | None = None

    def __call__(self, result: R) -> Answer:
        # The answer stored for a retry and the one sent now must be the same bytes: presenting
        # twice signed a receipt link twice, a second apart when the clock ticked in between.
        given = self._given
        if given is not None and given[0] is result:
            return given[1]
        answer = self._present(result)
        self._given = (result, answer)
        return answer

    def respond(self, result: R | Replayed) -> Response:
        return (result.answer if isinstance(result, Replayed) else self(result)).response()


def answering(present: Callable[[R], BaseModel], location: Callable[[R], str]) -> Answering[R]:
    """201 with the presented body and, in `Location`, where the created thing is read."""
    return Answering(
        lambda result: Answer(
            201, present(result).model_dump(mode="json"), headers={"Location": location(result)}
        )
    )


def answering_ok(present: Callable[[R], BaseModel]) -> Answering[R]:
    """200 with the presented body (a POST that changes something and creates nothing)."""
    return Answering(lambda result: Answer(200, present(result).model_dump(mode="json")))


async def replayed(uow: UnitOfWork, once: Once | None) -> Replayed | None:
    """`Replayed` with the stored answer when this is a retry of a request already applied."""
    stored = await replay(uow, once)
    return Replayed(stored) if stored is not None else None
