"""Free-form JSON (a merge patch) checked whole for text PostgreSQL cannot store: a 422 at its path.

Typed fields use `daiban_contracts.text.StoredText`, which pydantic checks; a body without a schema
for each field is walked here instead, with the same rule and the same wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daiban_common.errors import InvalidInput
from daiban_contracts.text import UNSTORABLE_MESSAGE, is_storable

__all__ = ["ensure_storable"]


def ensure_storable(value: Any, field: str = "body") -> None:
    """Refuse free-form JSON (any nesting, keys included) holding unstorable text: 422 at its path."""
    if isinstance(value, str):
        if not is_storable(value):
            raise InvalidInput.field(field, UNSTORABLE_MESSAGE)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and not is_storable(key):
                raise InvalidInput.field(field, UNSTORABLE_MESSAGE)
            ensure_storable(item, f"{field}.{key}" if field != "body" else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            ensure_storable(item, f"{field}[{i}]")
