"""Integers a request may carry to PostgreSQL: bounded, so the schema says so and nothing overflows.

An integer beyond bigint (2**63 - 1) reached asyncpg and failed there: a 500. Every integer input
that may end up in a query or a row is one of these types (or has tighter bounds of its own), so
it is a 422 naming the field, and OpenAPI shows `minimum`/`maximum`:

    to_seq: Annotated[PositiveBigInt | None, Query()] = None
    size: PositiveBigInt
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

__all__ = ["BIGINT_MAX", "BIGINT_MIN", "BigInt", "PositiveBigInt"]

BIGINT_MIN: Final = -(2**63)
BIGINT_MAX: Final = 2**63 - 1

BigInt = Annotated[int, Field(ge=BIGINT_MIN, le=BIGINT_MAX)]
"""Any value of PostgreSQL's bigint."""

PositiveBigInt = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
"""A sequence number, a size or an id: from 1 to bigint's maximum."""
