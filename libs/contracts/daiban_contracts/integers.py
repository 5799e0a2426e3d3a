"""Integers a request may carry to PostgreSQL: bounded, so the schema says so and nothing overflows.

An integer beyond bigint (2**63 - 1) reached asyncpg and failed there: a 500. Every integer input
that may end up in a query or a row is one of these types (or has tighter bounds of its own), so
it is a 422 naming the field, and OpenAPI shows `minimum`/`maximum`:

    to_seq: Annotated[PositiveSafeInt | None, Query()] = None
    size: PositiveSafeInt

The bounds are those of I-JSON (RFC 7493: ±(2**53 - 1)), well inside bigint: every JSON parser,
JavaScript's included, reads such a number exactly, and so does the OpenAPI document, where
FastAPI writes body bounds as floats (2**63 - 1 would come out as 2**63, a value we refuse).
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

__all__ = ["SAFE_INT_MAX", "SAFE_INT_MIN", "PositiveSafeInt", "SafeInt"]

SAFE_INT_MAX: Final = 2**53 - 1
SAFE_INT_MIN: Final = -SAFE_INT_MAX

SafeInt = Annotated[int, Field(ge=SAFE_INT_MIN, le=SAFE_INT_MAX)]
"""Any integer JSON carries exactly; PostgreSQL's bigint holds it."""

PositiveSafeInt = Annotated[int, Field(ge=1, le=SAFE_INT_MAX)]
"""A sequence number, a size or an id: from 1 up."""
