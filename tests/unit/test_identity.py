"""Resident IDs, credit codes, and masking personal data."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import date

import pytest
from stdnum.cn import ric, uscc

from daiban_common.identity import (
    InvalidIdentity,
    birth_date_of,
    mask_credit_code,
    mask_name,
    mask_phone,
    mask_resident_id,
    normalize_credit_code,
    normalize_resident_id,
    salted_hash,
)


def _resident_id(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


def _credit_code(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17 + "0")


def _wrong_last(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


VALID_ID = _resident_id("37028519900101123")
ID_ENDING_X = _resident_id("11010519491231002")


def _reason(call: Callable[[str], str], raw: str) -> str:
    with pytest.raises(InvalidIdentity) as caught:
        call(raw)
    assert isinstance(caught.value, ValueError)
    return caught.value.reason


def test_valid_resident_id() -> None:
    assert VALID_ID == "370285199001011238"
    assert normalize_resident_id(VALID_ID) == VALID_ID
    assert ric.is_valid(VALID_ID)


def test_lowercase_x_and_separators_are_normalized() -> None:
    assert ID_ENDING_X.endswith("X")
    assert normalize_resident_id(ID_ENDING_X.lower()) == ID_ENDING_X
    assert normalize_resident_id(f" {VALID_ID[:6]} {VALID_ID[6:14]}-{VALID_ID[14:]} ") == VALID_ID


def test_full_width_input_is_folded() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID_ENDING_X.lower())
    assert normalize_resident_id(full_width) == ID_ENDING_X


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    "typed",
    [
        ID_ENDING_X[:-1] + "x",  # lower-case x
        _full_width(ID_ENDING_X),  # full-width digits and Ｘ
        _full_width(ID_ENDING_X[:-1]) + "x",  # full-width digits, ASCII lower-case x
        f"{ID_ENDING_X[:6]} {ID_ENDING_X[6:14]} {ID_ENDING_X[14:]}",  # inner spaces
        f"{ID_ENDING_X[:6]}\u3000{ID_ENDING_X[6:14]}\u00a0{ID_ENDING_X[14:]}",  # ideographic, no-break
        f" {_full_width(ID_ENDING_X[:6])}\u3000{ID_ENDING_X[6:].lower()}\t",  # all of it at once
    ],
)
def test_what_an_input_method_types_is_normalised_not_refused(typed: str) -> None:
    """The decision (docs/walkthrough.md): normalise to 17 ASCII digits and an upper-case X."""
    assert normalize_resident_id(typed) == ID_ENDING_X


@pytest.mark.parametrize(
    "typed",
    [
        "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in VALID_ID),  # Arabic-Indic digits
        VALID_ID[:-1] + "\u00b9",  # a superscript one is no digit of an ID number
        VALID_ID[:-1] + "Ⅹ",  # the Roman numeral ten is no X
    ],
)
def test_look_alikes_outside_full_width_are_refused(typed: str) -> None:
    assert _reason(normalize_resident_id, typed) in ("format", "length")


def test_region_code_is_not_checked_against_birth_year() -> None:
    # Laixi's code dates from 1990; stdnum's own validator refuses it for people born before.
    number = _resident_id("37028519850101123")
    assert not ric.is_valid(number)
    assert normalize_resident_id(number) == number


def test_wrong_check_digit() -> None:
    with pytest.raises(InvalidIdentity, match="身份证号码校验位错误") as caught:
        normalize_resident_id(_wrong_last(VALID_ID))
    assert caught.value.reason == "check_digit"


@pytest.mark.parametrize("first17", ["37028519900230123", "37028518991231123", "37028519901301123"])
def test_impossible_birth_date(first17: str) -> None:
    with pytest.raises(InvalidIdentity, match="身份证号码中的出生日期无效") as caught:
        normalize_resident_id(_resident_id(first17))
    assert caught.value.reason == "birth_date"


def test_birth_date_in_the_future() -> None:
    number = _resident_id("37028520300101123")
    assert _reason(normalize_resident_id, number) == "birth_date"
    assert normalize_resident_id(number, today=date(2030, 1, 1)) == number


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "length"), ("37028519900101123", "length"), ("3702851990010112381", "length"),
     ("37028519900101123A", "format"), ("3702851990010112X8", "format")],
)  # fmt: skip
def test_malformed_resident_id(raw: str, reason: str) -> None:
    assert _reason(normalize_resident_id, raw) == reason


def test_birth_date_of() -> None:
    assert birth_date_of(VALID_ID) == date(1990, 1, 1)
    assert birth_date_of(ID_ENDING_X.lower()) == date(1949, 12, 31)
    with pytest.raises(InvalidIdentity):
        birth_date_of(_wrong_last(VALID_ID))


def test_valid_credit_code() -> None:
    assert uscc.is_valid("91110000802100433B")
    assert normalize_credit_code(" 91110000802100433b ") == "91110000802100433B"


def test_credit_code_of_village_collective_is_accepted() -> None:
    # Registered by agriculture authorities (N), kind 2 = village collective economic organisation.
    code = _credit_code("N2370285MF1234567")
    assert not uscc.is_valid(code)  # stdnum wants digits in the first 8 places
    assert normalize_credit_code(code) == code


def test_wrong_credit_code_check_character() -> None:
    with pytest.raises(InvalidIdentity, match="统一社会信用代码校验位错误") as caught:
        normalize_credit_code("91110000802100433C")
    assert caught.value.reason == "check_digit"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("9111000080210043", "length"), ("91110000802100433BB", "length"),
     ("9111000080210043IB", "format"), ("911100O0802100433B", "format"), ("91-1100008021004?3B", "format")],
)  # fmt: skip
def test_malformed_credit_code(raw: str, reason: str) -> None:
    assert _reason(normalize_credit_code, raw) == reason


def test_mask_resident_id() -> None:
    assert mask_resident_id("370285199001011234") == "370285********1234"
    assert mask_resident_id("370285900101123") == "370285******123"
    assert mask_resident_id("3702851990") == "**********"


def test_mask_credit_code() -> None:
    assert mask_credit_code("91110000802100433B") == "91************433B"
    assert mask_credit_code("9111") == "****"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+8613812345678", "+86138****5678"),
        ("0532-88886666", "0532-****6666"),
        ("05328888666", "0532****666"),
        ("010-12345678", "010-****5678"),
        ("(021)12345678", "(021)****5678"),
        ("88886666", "****6666"),
        ("8886666", "****666"),
        ("12345", "***45"),
        ("110", "**0"),
        ("", ""),
        ("无", "*"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("张三", "张*"), ("欧阳娜娜", "欧***"), ("阿依古丽·买买提", "阿***·***"), ("张", "*"), ("", "")],
)
def test_mask_name(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked


def test_salted_hash() -> None:
    digest = salted_hash(VALID_ID, "node-secret")
    assert digest == hmac.new(b"node-secret", VALID_ID.encode(), hashlib.sha256).hexdigest()
    assert len(digest) == 64
    assert salted_hash(VALID_ID, "node-secret") == digest
    assert salted_hash(VALID_ID, "other-secret") != digest
    with pytest.raises(ValueError):
        salted_hash(VALID_ID, "")
