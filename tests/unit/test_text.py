"""StoredText and ensure_storable: what PostgreSQL cannot store is refused, naming the field."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from daiban_common.errors import InvalidInput
from daiban_common.text import ensure_storable
from daiban_common.validation import validation_message
from daiban_contracts.integers import SAFE_INT_MAX, PositiveSafeInt, SafeInt
from daiban_contracts.text import STORABLE_PATTERN, UNSTORABLE_MESSAGE, StoredText, is_storable


class Form(BaseModel):
    name: Annotated[StoredText, Field(max_length=5)]
    # A stricter pattern goes inside the Annotated: a `= Field(pattern=...)` would lose to StoredText's.
    org: Annotated[StoredText, Field(pattern=r"^[0-9]{12}$")] = "370285000000"
    tags: list[StoredText] = []


@pytest.mark.parametrize("text", ["", "王秀英", "𠮷野家", "tab\there", "emoji 😀"])
def test_ordinary_text_is_storable(text: str) -> None:
    assert is_storable(text)
    assert TypeAdapter(StoredText).validate_python(text) == text


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "a\ud800", "\udfff", "x\udc80y"])
def test_nul_and_lone_surrogates_are_not(text: str) -> None:
    assert not is_storable(text)
    with pytest.raises(ValidationError) as caught:
        Form(name=text)
    [error] = caught.value.errors()
    assert error["loc"] == ("name",)
    assert validation_message(error) == UNSTORABLE_MESSAGE


def test_nested_fields_are_named() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name="a", tags=["ok", "b\x00"])
    assert [e["loc"] for e in caught.value.errors()] == [("tags", 1)]


def test_other_constraints_keep_their_own_messages() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(name="abcdef", org="37028500000X")
    messages = {e["loc"][0]: validation_message(e) for e in caught.value.errors()}
    assert messages == {"name": "长度不能超过5个字符", "org": "格式不正确"}


def test_a_field_pattern_of_its_own_still_refuses_nul() -> None:
    with pytest.raises(ValidationError):
        Form(name="a", org="37028500000\x00")


def test_schema_says_nul_is_refused() -> None:
    schema = Form.model_json_schema()["properties"]
    assert schema["name"] == {"type": "string", "maxLength": 5, "pattern": STORABLE_PATTERN, "title": "Name"}
    assert schema["org"]["pattern"] == r"^[0-9]{12}$"
    assert schema["tags"]["items"]["pattern"] == STORABLE_PATTERN
    # The JSON Schema pattern is the ECMA escape, which Python reads the same way.
    assert re.search(STORABLE_PATTERN, "ab") and not re.search(STORABLE_PATTERN, "a\x00b")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("a\x00", "body"),
        ({"name": "a\x00"}, "name"),
        ({"materials": [{"code": "M1"}, {"code": "\ud800"}]}, "materials[1].code"),
        ({"fee": {"basis": ["x", "\x00"]}}, "fee.basis[1]"),
        ({"a\x00": 1}, "body"),
        ({"outer": {"b\x00": 1}}, "outer"),
    ],
)
def test_ensure_storable_names_the_path(value: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ensure_storable(value)
    assert [(e.field, e.message) for e in caught.value.errors] == [(field, UNSTORABLE_MESSAGE)]


def test_ensure_storable_passes_ordinary_json() -> None:
    ensure_storable({"name": "结婚登记", "copies": 1, "tags": ["a", None, 2.5], "ok": True})


@pytest.mark.parametrize("kind", [SafeInt, PositiveSafeInt])
def test_bigint_bounds(kind: Any) -> None:
    adapter = TypeAdapter(kind)
    assert adapter.validate_python(SAFE_INT_MAX) == SAFE_INT_MAX
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(SAFE_INT_MAX + 1)
    assert validation_message(caught.value.errors()[0]) == f"不能大于{SAFE_INT_MAX}"
    assert adapter.json_schema()["maximum"] == SAFE_INT_MAX


def test_positive_bigint_starts_at_one() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(PositiveSafeInt).validate_python(0)
    assert TypeAdapter(PositiveSafeInt).json_schema()["minimum"] == 1
