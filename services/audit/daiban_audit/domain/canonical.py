"""RFC 8785 (JCS) canonical JSON, fast: a C encoder where it gives the same bytes.

`rfc8785` is pure Python and caps chain verification at a few thousand entries a second. For the
values the log holds (strings, safe integers, booleans, null, objects and arrays) `orjson` with
sorted keys writes exactly the RFC 8785 bytes, as does `json.dumps` with sorted keys, no spaces and
no ASCII escaping (ten to twenty times slower than orjson, still faster than `rfc8785`):
- strings: both escape only `"`, `\\` and U+0000-U+001F, with the same short forms (`\\b \\t \\n
  \\f \\r`) and lowercase `\\u00xx` for the rest; everything else is written as UTF-8 (lone
  surrogates cannot be encoded by either, so they go to `rfc8785` to fail the same way);
- integers: both write plain decimal digits; RFC 8785 refuses magnitudes beyond 2**53 - 1;
- object keys: RFC 8785 sorts by UTF-16 code units, Python by code points. The two orders agree
  whenever no key holds a character above U+FFFF (then code units and code points are the same
  sequence); only a supplementary character (a surrogate pair, 0xD800-0xDFFF) against a BMP
  character in U+E000-U+FFFF could compare differently.
Anything else (a float, an integer out of range, a non-string key, a key with a supplementary
character, another type or a subclass) takes `rfc8785` itself, so the result is always its bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import rfc8785

_INT_MAX = 2**53 - 1
_BMP_MAX = "\uffff"
_SORTED = orjson.OPT_SORT_KEYS


def json_safe(value: Any) -> bool:
    """True if `json.dumps` writes `value` exactly as RFC 8785 does (see the module docstring)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_INT_MAX <= value <= _INT_MAX)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) <= _BMP_MAX):
                return False
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if not json_safe(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if not json_safe(item):
                return False
        return True
    return False


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical form of `value`: byte for byte what `rfc8785.dumps` returns."""
    if json_safe(value):
        return encode_safe(value)
    return rfc8785.dumps(value)


def parse_json_checked(text: str | bytes) -> tuple[Any, bool]:
    """Parse JSON text (e.g. a JSONB column; str, or bytes in UTF-8) and say whether the value is
    `json_safe`.

    The value is what `json.loads` returns: orjson parses (several times faster), and whenever
    the value is not safe (a float, a big integer, anything orjson might read differently) or
    orjson refuses the text, `json.loads` parses it again.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text), False
    if json_safe(value):
        return value, True
    return json.loads(text), False


def encode_safe(value: Any) -> bytes:
    """`canonical_json` for a value already known to be `json_safe`."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:
        return rfc8785.dumps(value)  # a lone surrogate: rfc8785 raises its own error
