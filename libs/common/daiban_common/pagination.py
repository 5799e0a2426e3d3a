"""List endpoints: `limit` + opaque `cursor` in, `{"items", "next_cursor"[, "total"]}` out.

Keyset pagination, never offsets: a list of cases keeps changing while a clerk pages through it,
and an offset would then skip or repeat rows (and get slower page by page). The cursor is the sort
key of the last row sent, as base64url JSON. It is not signed: tampering with it can only move
where the next page starts, because org scoping is applied in SQL on every query anyway.

A cursor is bound to the list that issued it: it carries a short tag of the request path, and a
list refuses (422 on `cursor`) a cursor with another tag or none. Two lists with sort keys of the
same shape (`/v1/orgs` and `/v1/supervision/flags` both sort by one string) would otherwise take
each other's cursors and silently start somewhere meaningless. Pass `page` (not `page.limit`) to
`paginate` so the next cursor gets the tag.

A route typically reads:

    async def list_cases(page: PageParamsDep, principal: CurrentPrincipal, ...) -> Page[CaseOut]:
        after = page.key(datetime, UUID)  # None on the first page
        stmt = select(Case).where(subtree_clause(col(Case.org), principal.org))
        if after is not None:
            stmt = stmt.where(after_clause([col(Case.accepted_at), col(Case.id)], after, descending=True))
        stmt = stmt.order_by(col(Case.accepted_at).desc(), col(Case.id).desc()).limit(page.limit + 1)
        rows, next_cursor = paginate(list(await session.exec(stmt)), page,
                                     key=lambda c: (c.accepted_at, c.id))
        return Page(items=[CaseOut.model_validate(r) for r in rows], next_cursor=next_cursor)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, SQLColumnExpression, tuple_

from daiban_common.errors import InvalidInput

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CursorValue",
    "KeyValue",
    "Page",
    "PageParams",
    "PageParamsDep",
    "after_clause",
    "decode_cursor",
    "encode_cursor",
    "invalid_cursor",
    "list_tag",
    "page_params",
    "paginate",
]

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
# Far more than any sort key needs; stops a huge query string from being decoded at all.
MAX_CURSOR_CHARS: Final = 1024
# Cursor integers end up as PostgreSQL bigint parameters; anything larger would fail in the driver.
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

CursorValue = str | int | None
"""What a cursor holds once decoded."""
KeyValue = str | int | datetime | date | UUID | None
"""What a sort key may contain; datetimes, dates and UUIDs travel as strings."""

T = TypeVar("T")
Row = TypeVar("Row")


def invalid_cursor() -> InvalidInput:
    """The 422 for a cursor that is garbled, tampered with or from another list."""
    return InvalidInput.field("cursor", "分页游标无效，请从第一页重新查询")


def _to_cursor_value(value: KeyValue) -> CursorValue:
    # bool is an int subclass but would not survive the round trip as one.
    if isinstance(value, bool):
        raise TypeError("a cursor cannot hold booleans")
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError("cursor integers must fit in 64 bits")
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a cursor cannot hold {type(value).__name__}")


def list_tag(path: str) -> str:
    """The tag binding cursors to the list at `path` (8 characters of its SHA-256, base64url)."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode("ascii")


def encode_cursor(values: Sequence[KeyValue], *, tag: str | None = None) -> str:
    """The opaque cursor for a sort key (base64url of compact JSON, no padding).

    With `tag` (see `list_tag`) the JSON is `{"l": tag, "k": [values]}`, else the bare list.
    """
    if not values:
        raise ValueError("a cursor needs at least one key value")
    key = [_to_cursor_value(value) for value in values]
    payload: list[CursorValue] | dict[str, Any] = key if tag is None else {"l": tag, "k": key}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(raw: str, *, tag: str | None = None) -> list[CursorValue]:
    """The sort key in a cursor; `InvalidInput` (422, field "cursor") for anything malformed.

    With `tag`, only a cursor issued with that tag is accepted: one from another list is refused.
    """
    if not raw or len(raw) > MAX_CURSOR_CHARS:
        raise invalid_cursor()
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
        payload = json.loads(data.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_cursor() from None
    if tag is None:
        values = payload
    elif isinstance(payload, dict) and payload.keys() == {"l", "k"} and payload["l"] == tag:
        values = payload["k"]
    else:
        raise invalid_cursor()
    if not isinstance(values, list) or not values:
        raise invalid_cursor()
    for value in values:
        if value is None or isinstance(value, str):
            continue
        if isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX:
            continue
        raise invalid_cursor()
    return values


_Converter = Callable[[CursorValue], Any]


def _as_str(value: CursorValue) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _as_int(value: CursorValue) -> int:
    if not isinstance(value, int):
        raise ValueError
    return value


def _as_datetime(value: CursorValue) -> datetime:
    return datetime.fromisoformat(_as_str(value))


def _as_date(value: CursorValue) -> date:
    return date.fromisoformat(_as_str(value))


def _as_uuid(value: CursorValue) -> UUID:
    return UUID(_as_str(value))


# datetime before date: a datetime is a date.
_CONVERTERS: Final[Sequence[tuple[type[Any], _Converter]]] = (
    (datetime, _as_datetime),
    (date, _as_date),
    (UUID, _as_uuid),
    (int, _as_int),
    (str, _as_str),
)


def _converter(kind: type[Any]) -> _Converter:
    for known, convert in _CONVERTERS:
        if kind is known:
            return convert
    raise TypeError(f"cursor keys cannot be {kind.__name__}")


@dataclass(frozen=True, slots=True)
class PageParams:
    """`limit` and the decoded cursor (None on the first page) of one list request."""

    limit: int = DEFAULT_LIMIT
    cursor: tuple[CursorValue, ...] | None = None
    # The list this request reads (`list_tag` of its path): the next cursor carries it.
    tag: str | None = None

    def key(self, *kinds: type[Any]) -> tuple[Any, ...] | None:
        """The cursor as typed sort key values, e.g. `key(datetime, UUID)`; 422 if it does not fit.

        Supported kinds: str, int, datetime, date, UUID. None values are refused: row-value
        comparison with NULL matches nothing, so nullable columns make poor sort keys.
        """
        converters = [_converter(kind) for kind in kinds]
        if self.cursor is None:
            return None
        if len(self.cursor) != len(converters):
            raise invalid_cursor()
        try:
            return tuple(convert(value) for convert, value in zip(converters, self.cursor, strict=True))
        except ValueError:
            raise invalid_cursor() from None


async def page_params(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}; more is a 422.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_CHARS,
            description="`next_cursor` of the previous page; omit (or leave empty) for the first page.",
        ),
    ] = None,
) -> PageParams:
    tag = list_tag(request.url.path)
    decoded = decode_cursor(cursor, tag=tag) if cursor else None
    return PageParams(limit=limit, cursor=tuple(decoded) if decoded is not None else None, tag=tag)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    # Required, not defaulted: a route that forgets it would silently end every list at page one.
    next_cursor: str | None
    total: int | None = Field(
        default=None,
        description="Number of matching items, only where counting is cheap.",
        exclude_if=lambda value: value is None,
    )


def paginate(
    rows: Sequence[Row], page: PageParams | int, key: Callable[[Row], Sequence[KeyValue]]
) -> tuple[list[Row], str | None]:
    """Split rows fetched with `LIMIT limit + 1` into the page and the cursor of the next one.

    Given the request's `PageParams`, the cursor is bound to its list; a bare limit gives an
    unbound cursor (for code outside a request).
    """
    limit, tag = (page, None) if isinstance(page, int) else (page.limit, page.tag)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(rows) <= limit:
        return list(rows), None
    head = list(rows[:limit])
    return head, encode_cursor(key(head[-1]), tag=tag)


def after_clause(
    columns: Sequence[SQLColumnExpression[Any]], key: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after `key` in the order `columns` (all ascending or all descending).

    A row-value comparison, `(a, b) > (:a, :b)`, which PostgreSQL answers from an index on
    `(a, b)`. Mixed directions cannot be expressed this way; sort by such keys differently.
    """
    if not columns or len(columns) != len(key):
        raise ValueError("after_clause needs one key value per column")
    if any(value is None for value in key):
        raise ValueError("after_clause cannot compare NULL sort keys")
    if len(columns) == 1:
        (column,), (value,) = columns, key
        single: ColumnElement[bool] = column < value if descending else column > value
        return single
    row = tuple_(*columns)
    values = tuple(key)
    return row < values if descending else row > values
