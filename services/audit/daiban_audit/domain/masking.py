"""Personal data in the log: masked before an entry is written, since the log is kept for years.

Events already carry applicants masked (the contracts say so), but free text written by people,
such as a refusal reason or a complaint summary, can hold an ID number or a phone number. Anything
that looks like one is masked wherever it appears, except in fields that hold identifiers of the
system itself (hashes, codes, case numbers), which look like numbers but are not personal.
"""

from __future__ import annotations

import re
from typing import Any

from daiban_common.identity import mask_phone, mask_resident_id

# Boundaries are "not a letter or digit", so a run of digits inside a longer code is left alone.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z+])(?:\+86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<![0-9A-Za-z])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9A-Za-z])")
_SYSTEM_SUFFIXES = ("_hash", "_code", "_codes", "case_number", "notice_number", "_id", "_org", "signature")
_SYSTEM_KEYS = frozenset({"org", "public_key", "subject"})


def mask_text(text: str) -> str:
    """`text` with ID numbers and phone numbers in it masked."""
    text = _RESIDENT_ID.sub(lambda m: mask_resident_id(m.group()), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group()), text)
    return _LANDLINE.sub(lambda m: mask_phone(m.group()), text)


def _is_system_key(key: str) -> bool:
    return key in _SYSTEM_KEYS or key.endswith(_SYSTEM_SUFFIXES)


def mask_personal_data(value: Any, key: str = "") -> Any:
    """A copy of event data with personal numbers masked in every string outside system fields."""
    if isinstance(value, dict):
        return {k: mask_personal_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_data(v, key) for v in value]
    if isinstance(value, str) and not _is_system_key(key):
        return mask_text(value)
    return value
