"""The fast canonical JSON gives exactly `rfc8785`'s bytes (and its errors), fast path or not."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785

from daiban_audit.domain.canonical import canonical_json, json_safe, parse_json_checked
from daiban_audit.domain.chain import Entry, entry_hash, stored_entry_hash
from daiban_contracts.audit import rfc3339_utc

# Characters chosen for what canonical forms differ on: escapes, control characters, DEL, CJK,
# full-width punctuation, the private use area and U+FFFF (where UTF-16 and code point order can
# disagree), supplementary characters (surrogate pairs), and the line separators JSON leaves alone.
ALPHABET = [
    *"abcXYZ019 _-.:/",
    *['"', "\\", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f", "\u2028", "\u2029"],
    *"张王李村代办员审核确认临时身份证，。：（）【】",
    *["\ue000", "\uf8ff", "\ufeff", "\uffff", "\U0001f600", "\U00020000", "é", "ß", "\u0300"],
]


def text(rng: random.Random, plane: bool = True) -> str:
    alphabet = ALPHABET if plane else [c for c in ALPHABET if ord(c) <= 0xFFFF]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def value(rng: random.Random, depth: int = 0, *, floats: bool, risky_keys: bool) -> Any:
    kinds = ["str", "int", "bool", "none", "dict", "list"] if depth < 4 else ["str", "int", "bool", "none"]
    if floats:
        kinds.append("float")
    kind = rng.choice(kinds)
    if kind == "str":
        return text(rng)
    if kind == "int":
        return rng.choice([0, -1, 1, 42, -(2**53) + 1, 2**53 - 1, rng.randint(-(10**12), 10**12)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "float":
        return rng.choice([0.5, -1.25, 1.0, 1e21, 3.0e-7, 123456.789, rng.uniform(-1e6, 1e6)])
    if kind == "list":
        return [value(rng, depth + 1, floats=floats, risky_keys=risky_keys) for _ in range(rng.randint(0, 4))]
    return {
        text(rng, plane=risky_keys): value(rng, depth + 1, floats=floats, risky_keys=risky_keys)
        for _ in range(rng.randint(0, 6))
    }


def same_as_rfc8785(obj: Any) -> None:
    try:
        expected = rfc8785.dumps(obj)
    except Exception as error:  # the same error type is the point
        with pytest.raises(type(error)):
            canonical_json(obj)
        return
    assert canonical_json(obj) == expected


@pytest.mark.parametrize("seed", range(40))
def test_safe_values_take_the_json_path_and_give_rfc8785_bytes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(100):
        data = value(rng, floats=False, risky_keys=False)
        obj = {"data": data, "名称": text(rng), "n": rng.randint(0, 10**9)}
        assert json_safe(obj)
        same_as_rfc8785(obj)


@pytest.mark.parametrize("seed", range(40))
def test_floats_and_risky_keys_fall_back_to_rfc8785(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(100):
        same_as_rfc8785(value(rng, floats=True, risky_keys=True))


def test_key_order_is_utf16_where_it_differs_from_code_points() -> None:
    obj: dict[str, Any] = {"\ue000": 1, "\U0001f600": 2, "a": {"\uffff": [], "\U00020000": {}}}
    # A surrogate pair (0xD83D...) sorts before U+E000 in UTF-16, after it by code point.
    assert canonical_json(obj) == rfc8785.dumps(obj)
    assert canonical_json(obj).index("\U0001f600".encode()) < canonical_json(obj).index("\ue000".encode())


@pytest.mark.parametrize(
    "obj",
    [
        2**53,
        -(2**53),
        {"big": [10**30]},
        float("nan"),
        {1: "non-string key"},
        {"x": "\ud800"},
        {"\udfff": 1},
        {"x": object()},
    ],
)
def test_what_rfc8785_refuses_is_refused_alike(obj: Any) -> None:
    same_as_rfc8785(obj)


@pytest.mark.parametrize(
    "obj", [{}, [], "", {"a": {}, "b": []}, [[], [{}]], True, None, 0, "说明\n第二行\t\u2028"]
)
def test_small_and_empty_values(obj: Any) -> None:
    assert json_safe(obj)
    same_as_rfc8785(obj)


@pytest.mark.parametrize("seed", range(20))
def test_json_text_parsed_with_checks_is_the_same_value_and_verdict(seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(100):
        obj = value(rng, floats=rng.random() < 0.3, risky_keys=rng.random() < 0.3)
        parsed, safe = parse_json_checked(json.dumps(obj, ensure_ascii=rng.random() < 0.5))
        assert parsed == obj
        if safe:
            assert json_safe(parsed)
        same_as_rfc8785(parsed)


@pytest.mark.parametrize("seed", range(10))
def test_stored_row_hash_is_the_entry_hash(seed: int) -> None:
    rng = random.Random(3000 + seed)
    t0 = datetime(2026, 11, 2, 1, 0, 0, 123456, tzinfo=UTC)
    for seq in range(1, 50):
        entry = Entry(
            seq=seq,
            event_id=f"e-{seed}-{seq}",
            type="daiban.case.accepted.v1",
            source="/daiban/n370285000000/intake",
            subject=text(rng),
            time=t0 + timedelta(seconds=seq),
            recorded_at=t0 + timedelta(seconds=seq, microseconds=seq),
            org="370285101201",
            actor=text(rng),
            data={"case_number": f"C{seq}", "x": value(rng, floats=rng.random() < 0.2, risky_keys=True)},
            prev_hash="a" * 64,
        )
        stored = stored_entry_hash(
            seq=entry.seq,
            event_id=entry.event_id,
            type=entry.type,
            source=entry.source,
            subject=entry.subject,
            time=rfc3339_utc(entry.time),
            recorded_at=rfc3339_utc(entry.recorded_at),
            org=entry.org,
            actor=entry.actor,
            data_json=json.dumps(entry.data, ensure_ascii=False),
            prev_hash=entry.prev_hash,
        )
        assert stored == entry_hash(entry)
