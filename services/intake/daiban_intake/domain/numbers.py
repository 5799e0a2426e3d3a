"""Case numbers, notice numbers and query codes.

A case number reads `<accepting org, 12 digits>-<YYYYMMDD>-<sequence>`, e.g.
`370285101201-20261122-0007`: the point where the citizen applied, the day of acceptance in
Shanghai, and that point's count for the day (four digits, more once a point passes 9,999 a day).
A clerk can read where and when a case began from its number alone, and numbers never collide
across nodes because each org unit is accepted at exactly one node. A notice number is built the
same way with `G` (告知) before the sequence: `370285101201-20261122-G0003`.

A township that starts (or stops) running a node of its own in the middle of a day must not hand
out a number the county node gave that morning: each node keeps its own count, so a township node
counts from 5001 and the county node from 0001 (a point never accepts 5,000 cases a day).
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Final

from daiban_contracts.orgcodes import OrgCode, Tier

CASE_NUMBER_PATTERN: Final = r"^[0-9]{12}-[0-9]{8}-[0-9]{4,}$"
NOTICE_NUMBER_PATTERN: Final = r"^[0-9]{12}-[0-9]{8}-G[0-9]{4,}$"
_CASE_NUMBER = re.compile(CASE_NUMBER_PATTERN)
_NOTICE_NUMBER = re.compile(NOTICE_NUMBER_PATTERN)

# No 0/O, 1/I/L: the code is read aloud on the phone and typed from a paper receipt.
QUERY_CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH: Final = 8


# Where a township node's count of the day starts (the county node's starts at 1).
TOWNSHIP_NODE_FIRST_SEQUENCE: Final = 5001


def first_sequence(node: OrgCode) -> int:
    return TOWNSHIP_NODE_FIRST_SEQUENCE if node.tier is Tier.township else 1


def case_number(org: str, day: date, sequence: int) -> str:
    return f"{org}-{day:%Y%m%d}-{sequence:04d}"


def notice_number(org: str, day: date, sequence: int) -> str:
    return f"{org}-{day:%Y%m%d}-G{sequence:04d}"


def masked_case_number(number: str) -> str:
    """The number as a public board shows it (`370285101294-********-0007`): the point and the
    day's sequence let a citizen holding the receipt find the case, while the board does not
    publish whole numbers for anyone to try query codes against."""
    org, day, sequence = number.split("-")
    return f"{org}-{'*' * len(day)}-{sequence}"


def is_case_number(value: str) -> bool:
    return _CASE_NUMBER.fullmatch(value) is not None


def is_notice_number(value: str) -> bool:
    return _NOTICE_NUMBER.fullmatch(value) is not None


def new_query_code() -> str:
    """A random code printed on the receipt; with the number it opens the public progress page.

    31^8 ≈ 8.5e11 codes: guessing one for a known number is hopeless without being noticed.
    """
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def normalise_query_code(value: str) -> str:
    """Codes are shown in capitals; a citizen typing lower case means the same code."""
    return value.strip().upper()
