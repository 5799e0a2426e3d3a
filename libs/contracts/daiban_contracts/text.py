"""Text that PostgreSQL can store: one rule for every string a request carries to the database.

PostgreSQL refuses NUL (U+0000) in `text` and in `jsonb` alike, and a lone surrogate
(U+D800–U+DFFF, which JSON's `\\ud800` escape can produce) cannot be encoded as UTF-8 at all.
Either reached the driver and became a 500. Every string input that may end up in a query or a
row is therefore typed `StoredText` (bodies, query filters, path ids):

    name: Annotated[StoredText, Field(min_length=1, max_length=100)]
    code: Annotated[StoredText | None, Query(max_length=40)] = None
    id: Annotated[StoredText, Path()]

It is a string with the pattern `^[^\\u0000]*$`, so the JSON Schema says NUL is refused (clients and
schema-driven fuzzers see it) and pydantic checks it in Rust. A pattern also makes pydantic refuse
lone surrogates (`string_unicode`): the text must become a Rust string to be matched. A field
with a stricter pattern of its own (digits only, an id format) keeps both properties; write it as
`Annotated[StoredText, Field(pattern=...)]` or as a plain `str` with that pattern, never as
`StoredText = Field(pattern=...)`, where StoredText's own pattern would win.
The platform's `errors.validation_message` words both refusals as `UNSTORABLE_MESSAGE`, naming the
field; free-form JSON (a merge patch) is checked whole with `daiban_common.text.ensure_storable`.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

__all__ = [
    "STORABLE_PATTERN",
    "UNSTORABLE_MESSAGE",
    "StoredText",
    "is_storable",
]

# ECMA-262, Rust `regex` and Python `re` all read `\u0000`; the schema keeps the escape, not a NUL.
STORABLE_PATTERN: Final = r"^[^\u0000]*$"
UNSTORABLE_MESSAGE: Final = "不能包含空字符或无效的Unicode字符"

StoredText = Annotated[str, Field(pattern=STORABLE_PATTERN)]
"""A string PostgreSQL can store; anything else is a 422 naming the field."""


def is_storable(value: str) -> bool:
    """Whether PostgreSQL can store `value` (no NUL, no lone surrogate)."""
    return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
