"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS=fuzz.hooks).

Every generated Idempotency-Key gets a unique suffix. Hypothesis draws the same small keys again
and again; a repeated key makes the server replay the first answer (correctly), and the stateful
phase then follows the replayed `Location` of a resource it has deleted since, which it reports as
"created resource not found". Keys stay as odd as drawn, so their validation is still fuzzed.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def map_headers(ctx: Any, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    if headers and isinstance(headers.get("Idempotency-Key"), str):
        headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:100]}-{uuid.uuid4().hex}"
    return headers
