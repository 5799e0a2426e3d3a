"""Reading directory CSV files: any line end a spreadsheet writes, and a 422 for what is not CSV."""

from __future__ import annotations

import pytest

from daiban_common.errors import InvalidInput
from daiban_routing.domain.csv_rows import ImportKind, parse

HEADER = "org,code,name"
ROWS = ["370285000000,county.civil_affairs,民政局", "370285000000,county.public_security,公安局"]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "bare CR (Excel for Mac)"])
def test_every_line_end_reads_the_same(end: str) -> None:
    rows = parse(ImportKind.departments, end.join([HEADER, *ROWS]) + end)
    assert [getattr(row, "name") for row in rows] == ["民政局", "公安局"]  # noqa: B009


def test_a_line_break_inside_quotes_stays_in_the_cell() -> None:
    [row] = parse(ImportKind.departments, f'{HEADER}\r370285000000,county.x,"民政\r局"\r')
    assert getattr(row, "name") == "民政\r局"  # noqa: B009


def test_nul_in_a_cell_is_named_by_line_and_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(ImportKind.departments, f"{HEADER}\n{ROWS[0]}\n370285000000,county.x,民\x00政\n")
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("rows[3].name", "不能包含空字符或无效的Unicode字符")
    ]


def test_what_the_csv_module_cannot_read_is_a_422_naming_the_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(ImportKind.departments, f"{HEADER}\n{ROWS[0]}\n370285000000,county.x,{'x' * 140_000}\n")
    assert [e.field for e in caught.value.errors] == ["rows[3]"]
