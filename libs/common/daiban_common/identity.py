"""Resident ID numbers (GB 11643), unified social credit codes (GB 32100), and masking personal data.

Check digits come from python-stdnum; its full validators are deliberately not used:

- `stdnum.cn.ric.validate` also looks the region code up in its own table, checked against the
  birth year. But the code is that of the place where the number was first issued, often years
  after birth (18-digit numbers date from 1999), and the table lags behind division changes:
  it rejects a real Laixi number (370285, a code from 1990) for anyone born in 1985. Refusing a
  citizen at the window over that is worse than accepting an unknown region code.
- `stdnum.cn.uscc.validate` wants the first 8 characters to be digits, which rejects codes of
  authorities written as letters: `N` (agriculture, e.g. village collective economic organisations
  `N2...`, which every village in this network has), `A` and `Y`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from typing import Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from daiban_common.calendar import today_in_shanghai

# The oldest person alive was born after this; an earlier year is a typo, not a citizen.
_EARLIEST_BIRTH_YEAR = 1900
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
# GB 32100 characters: digits and capitals without I, O, Z, S, V.
_CREDIT_CHARS = "0-9A-HJ-NP-RTUW-Y"
_CREDIT_CODE = re.compile(rf"[{_CREDIT_CHARS}]{{2}}[0-9]{{6}}[{_CREDIT_CHARS}]{{10}}")
# Chinese input methods produce full-width digits and letters (０-９, Ａ-Ｚ) and the ideographic
# space; fold them to ASCII so a number typed that way is not refused.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SEPARATORS = re.compile(r"[\s\-]")
_NAME_SEPARATORS = frozenset(" ·•・")
_DIGITS = frozenset("0123456789")

IdentityReason = Literal["length", "format", "check_digit", "birth_date"]


class InvalidIdentity(ValueError):
    """An identity number that fails validation; `reason` is for code, the message for people."""

    def __init__(self, reason: IdentityReason, message: str) -> None:
        super().__init__(message)
        self.reason: IdentityReason = reason
        self.message = message


def _compact(raw: str) -> str:
    return _SEPARATORS.sub("", raw.translate(_FULL_WIDTH)).upper()


def normalize_resident_id(raw: str, *, today: date | None = None) -> str:
    """The 18-character resident ID in canonical form (separators removed, `x` as `X`), or raise.

    What an input method types differently is normalised, not refused (docs/walkthrough.md):
    full-width digits and letters become ASCII, `x` becomes `X`, whitespace (ideographic and
    no-break spaces included) and hyphens go. Only full-width forms are folded, not all of NFKC,
    which would also turn superscripts and circled digits into digits.

    The birth date must exist, be no earlier than 1900 and not after `today` (default: today in Shanghai).
    """
    number = _compact(raw)
    if len(number) != 18:
        raise InvalidIdentity("length", "身份证号码应为18位")
    if not _RESIDENT_ID.fullmatch(number):
        raise InvalidIdentity("format", "身份证号码格式错误：前17位应为数字，最后一位为数字或X")
    # The birth date is checked before the check digit: a typo in it breaks both, and naming the
    # birth date tells the clerk where to look.
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdentity("birth_date", "身份证号码中的出生日期无效") from None
    if born.year < _EARLIEST_BIRTH_YEAR or born > (today if today is not None else today_in_shanghai()):
        raise InvalidIdentity("birth_date", "身份证号码中的出生日期无效")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdentity("check_digit", "身份证号码校验位错误")
    return number


def birth_date_of(resident_id: str) -> date:
    """The birth date encoded in a resident ID; raises InvalidIdentity if the number is invalid."""
    return ric.get_birth_date(normalize_resident_id(resident_id))


def normalize_credit_code(raw: str) -> str:
    """The 18-character unified social credit code in canonical form, or raise InvalidIdentity."""
    code = _compact(raw)
    if len(code) != 18:
        raise InvalidIdentity("length", "统一社会信用代码应为18位")
    if not _CREDIT_CODE.fullmatch(code):
        raise InvalidIdentity(
            "format", "统一社会信用代码格式错误：应由数字和大写字母（不含I、O、Z、S、V）组成，第3至8位为数字"
        )
    if code[-1] != uscc.calc_check_digit(code):
        raise InvalidIdentity("check_digit", "统一社会信用代码校验位错误")
    return code


def _keep_ends(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_resident_id(value: str) -> str:
    """`370285199001011234` -> `370285********1234`: region and last four kept, birth date hidden.

    Anything not shaped like an ID number is masked whole, since it may be one mistyped.
    """
    value = value.strip()
    if len(value) == 18:
        return _keep_ends(value, 6, 4)
    if len(value) == 15:  # first-generation numbers: 6 region, 6 birth date (YYMMDD), 3 sequence
        return _keep_ends(value, 6, 3)
    return "*" * len(value)


def mask_credit_code(value: str) -> str:
    """`91110000802100433B` -> `91************433B`: authority and kind kept, identifying part hidden.

    Most codes are public (they are printed on business licences), but an individual business's
    (个体工商户) code points at one person.
    """
    value = value.strip()
    if len(value) == 18:
        return _keep_ends(value, 2, 4)
    return "*" * len(value)


def mask_phone(value: str) -> str:
    """Hide the middle of a phone number, keeping separators and what only locates it.

    `13812345678` -> `138****5678`; `0532-88886666` -> `0532-****6666` (the area code is kept);
    `+86 138 1234 5678` -> `+86 138 **** 5678`. Short numbers keep at most half their digits.
    """
    value = value.strip()
    prefix = ""
    for country in ("+86", "0086"):
        if value.startswith(country):
            prefix, value = country, value[len(country) :]
            break
    digits = [c for c in value if c in _DIGITS]
    if not digits:
        return prefix + "*" * len(value)
    count = len(digits)
    head = 0
    if count == 11 and digits[0] == "1":
        head = 3  # mobile: the carrier's prefix
    elif count >= 10 and digits[0] == "0":
        # Area codes are 3 digits for Beijing (010) and 020–029, 4 digits everywhere else.
        head = 3 if digits[1] in "12" else 4
    tail = min(4, (count - head) // 2)
    out: list[str] = []
    seen = 0
    for c in value:
        if c in _DIGITS:
            out.append(c if seen < head or seen >= count - tail else "*")
            seen += 1
        else:
            out.append(c)
    return prefix + "".join(out)


# Boundaries are "not a letter or digit", so a run of digits inside a longer code is left alone.
_RESIDENT_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z+])(?:\+86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9A-Za-z])")
_LANDLINE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """`text` with ID numbers and phone numbers in it masked."""
    text = _RESIDENT_ID_IN_TEXT.sub(lambda m: mask_resident_id(m.group()), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
    return _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def mask_name(value: str) -> str:
    """`张三` -> `张*`, `欧阳娜娜` -> `欧***`: the first character kept, one star per character hidden.

    Separators in transliterated names (`·`, spaces) stay, so `阿依古丽·买买提` -> `阿***·***`.
    """
    value = value.strip()
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "".join(c if c in _NAME_SEPARATORS else "*" for c in value[1:])


def salted_hash(value: str, salt: str) -> str:
    """HMAC-SHA256 of `value` keyed by `salt`, in hex.

    Lets events leaving the node be matched on a personal value (same person, same hash) without
    carrying it. Normalize the value first, or `x` and `X` will hash apart. A plain hash of an ID
    number could be reversed by trying every plausible number, hence the secret key.
    """
    if not salt:
        raise ValueError("salt must not be empty: an unkeyed hash of an ID number can be brute-forced")
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()
