"""Personal data in the log: masked before an entry is written, since the log is kept for years.

Events already carry applicants masked (the contracts say so), but free text written by people,
such as a refusal reason or a complaint summary, can hold an ID number or a phone number. Anything
that looks like one is masked wherever it appears, except in fields that hold identifiers of the
system itself (hashes, codes, case numbers), which look like numbers but are not personal.
"""

from __future__ import annotations

import re
from typing import Any

from daiban_common.identity import mask_text

_SYSTEM_SUFFIXES = ("_hash", "_code", "_codes", "case_number", "notice_number", "_id", "_org", "signature")
_SYSTEM_KEYS = frozenset({"org", "public_key", "subject"})
# Every number `mask_text` masks has ASCII digits: text without one is left as it is, unscanned
# (most strings of an event: names, kinds, outcomes).
_DIGIT = re.compile("[0-9]")


def _is_system_key(key: str) -> bool:
    return key in _SYSTEM_KEYS or key.endswith(_SYSTEM_SUFFIXES)


def mask_personal_data(value: Any, key: str = "") -> Any:
    """A copy of event data with personal numbers masked in every string outside system fields."""
    if isinstance(value, dict):
        return {k: mask_personal_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_data(v, key) for v in value]
    if isinstance(value, str) and _DIGIT.search(value) and not _is_system_key(key):
        return mask_text(value)
    return value
