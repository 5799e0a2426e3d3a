"""Results and rows as answers: statistics and reports as CSV and printable HTML, labelled in Chinese
for the people who read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from starlette.responses import HTMLResponse, Response

from daiban_audit.domain.stats import HandlingMode

COLUMNS: tuple[tuple[str, str], ...] = (
    ("received", "受理件数"),
    ("one_time_notices", "一次性告知"),
    ("accepted_with_deficiencies", "容缺受理"),
    ("concluded", "办结件数"),
    ("concluded_on_the_spot", "即办件数"),
    ("on_the_spot_rate", "即办率"),
    ("concluded_early", "提前办结"),
    ("early_rate", "提前办结率"),
    ("concluded_on_time", "按时办结"),
    ("on_time_rate", "按时办结率"),
    ("concluded_overdue", "超期办结"),
    ("refused", "不予受理/退回"),
    ("supplements_requested", "要求补正"),
    *((f"by_handling_mode.{mode.value}", mode.label) for mode in HandlingMode),
    ("average_working_days_to_conclusion", "平均办结工作日"),
    ("evaluations.very_satisfied", "非常满意"),
    ("evaluations.satisfied", "满意"),
    ("evaluations.basically_satisfied", "基本满意"),
    ("evaluations.dissatisfied", "不满意"),
    ("evaluations.very_dissatisfied", "非常不满意"),
    ("satisfaction_rate", "满意率"),
    ("complaints", "投诉"),
    ("rectifications", "整改"),
)
_RATES = frozenset({"on_the_spot_rate", "early_rate", "on_time_rate", "satisfaction_rate"})
GROUP_LABELS = {
    "day": "按日",
    "department": "按部门",
    "window": "按窗口",
    "staff": "按人员",
    "org": "按区划单位",
}

Sections = list[tuple[str, list[dict[str, Any]]]]


def _value(figures: Mapping[str, Any], path: str) -> Any:
    value: Any = figures
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _text(path: str, value: Any) -> str:
    if value is None:
        return "—"
    if path in _RATES:
        return f"{value * 100:.2f}%"
    return str(value)


def rows(sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]) -> list[list[str]]:
    """One row per figures block: section name, key, then the columns."""
    out = []
    for section, blocks in sections:
        for block in blocks:
            out.append(
                [section, str(block.get("key", "合计")), *(_text(p, _value(block, p)) for p, _ in COLUMNS)]
            )
    return out


def csv_response(sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["分组", "项目", *(label for _, label in COLUMNS)])
    writer.writerows(rows(sections))
    # A byte order mark, so that Excel on a clerk's desktop opens the Chinese as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def html_response(
    title: str, subtitle: str, sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]
) -> Response:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
    body = []
    for section, key, *cells in rows(sections):
        tds = "".join(f"<td>{escape(cell)}</td>" for cell in cells)
        body.append(f"<tr><th>{escape(section)}</th><th>{escape(key)}</th>{tds}</tr>")
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body {{ font-family: "SimSun", "Songti SC", serif; margin: 1.5cm; }}
h1 {{ text-align: center; font-size: 20pt; }} p.sub {{ text-align: center; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }}
th, td {{ border: 1px solid #000; padding: 2px 4px; text-align: center; }}
@media print {{ @page {{ size: A4 landscape; }} }}
</style></head><body>
<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>
<table><thead><tr><th>分组</th><th>项目</th>{head}</tr></thead>
<tbody>{"".join(body)}</tbody></table>
</body></html>"""
    return HTMLResponse(page)


def wants(accept: str | None) -> str:
    """json, csv or html from an Accept header (JSON unless CSV or HTML is asked for)."""
    accept = (accept or "").lower()
    if "text/csv" in accept:
        return "csv"
    if "text/html" in accept:
        return "html"
    return "json"


def document(accept: str | None, title: str, subtitle: str, sections: Sections) -> Response | None:
    """The CSV or HTML form when the caller asked for one; None for JSON."""
    form = wants(accept)
    if form == "csv":
        return csv_response(sections, "report.csv")
    if form == "html":
        return html_response(title, subtitle, sections)
    return None
