"""Results and rows as answers: a verification's verdict, checkpoints, and statistics and reports as
JSON, CSV or printable HTML, labelled in Chinese for the people who read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

from starlette.responses import HTMLResponse, Response

from daiban_audit.domain.chain import Verdict
from daiban_audit.domain.stats import Dimension, GroupKey, HandlingMode, ReportPeriod, group_label
from daiban_audit.models import Checkpoint
from daiban_audit.queries import UnsignedTail
from daiban_audit.schemas import (
    CheckpointOut,
    EntryOut,
    FailureOut,
    GroupBy,
    ReportOut,
    StatsOut,
    UnsignedTailOut,
    VerifyOut,
)

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
_GROUP_LABELS = {
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


# Before the figures: the section, the row's name, and the unit's code beside its name.
_HEAD = ("分组", "项目", "单位代码", "单位名称")


def rows(sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]) -> list[list[str]]:
    """One row per figures block: section name, label, unit code and name, then the columns."""
    out = []
    for section, blocks in sections:
        for block in blocks:
            unit = [block.get("org") or "", block.get("org_name") or ""]
            figures = (_text(p, _value(block, p)) for p, _ in COLUMNS)
            out.append([section, str(block.get("label") or block.get("key")), *unit, *figures])
    return out


def labelled(dimension: Dimension | None, groups: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Groups with the name a clerk reads (`label`) beside their codes."""
    return [
        {**group, "label": group_label(dimension, GroupKey(group["org"], group["code"]), group["org_name"])}
        for group in groups
    ]


def _totals(found: Mapping[str, Any], org: str) -> dict[str, Any]:
    return {**found["totals"], "label": "合计", "org": org, "org_name": found.get("org_name")}


def _unit(org: str, name: str | None) -> str:
    return f"{name}（{org}）" if name else org


def csv_response(sections: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*_HEAD, *(label for _, label in COLUMNS)])
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
    for section, label, *cells in rows(sections):
        tds = "".join(f"<td>{escape(cell)}</td>" for cell in cells)
        body.append(f"<tr><th>{escape(section)}</th><th>{escape(label)}</th>{tds}</tr>")
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
<table><thead><tr>{"".join(f"<th>{escape(name)}</th>" for name in _HEAD)}{head}</tr></thead>
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


def _document(accept: str | None, title: str, subtitle: str, sections: Sections) -> Response | None:
    """The CSV or HTML form when the caller asked for one; None for JSON."""
    form = wants(accept)
    if form == "csv":
        return csv_response(sections, "report.csv")
    if form == "html":
        return html_response(title, subtitle, sections)
    return None


def stats_answer(
    accept: str | None, *, org: str, since: date, until: date, group_by: GroupBy | None, found: dict[str, Any]
) -> Response | StatsOut:
    """Statistics as JSON, or as CSV or HTML when the Accept header asks for them."""
    dimension = None if group_by in (None, GroupBy.day) else Dimension(group_by.value)
    groups = labelled(dimension, found["groups"])
    result = StatsOut(org=org, from_=since, to=until, group_by=group_by, **{**found, "groups": groups})
    sections: Sections = [("合计", [_totals(found, org)])]
    if group_by is not None:
        sections.append((_GROUP_LABELS[group_by.value], groups))
    title = f"{_unit(org, found.get('org_name'))} 办件统计"
    return _document(accept, title, f"{since} 至 {until}", sections) or result


def report_answer(
    accept: str | None,
    *,
    period: ReportPeriod,
    org: str,
    since: date,
    until: date,
    by_org: dict[str, Any],
    by_department: dict[str, Any],
) -> Response | ReportOut:
    """A report as JSON, or as CSV or printable HTML when the Accept header asks for them."""
    orgs = labelled(Dimension.org, by_org["groups"])
    departments = labelled(Dimension.department, by_department["groups"])
    result = ReportOut(
        period=period,
        period_label=period.label,
        org=org,
        org_name=by_org.get("org_name"),
        from_=since,
        to=until,
        totals=by_org["totals"],
        by_org=orgs,
        by_department=departments,
    )
    sections: Sections = [
        ("合计", [_totals(by_org, org)]),
        ("按区划单位", orgs),
        ("按部门", departments),
    ]
    title = f"{_unit(org, by_org.get('org_name'))} 政务服务{period.label}"
    return _document(accept, title, f"{since} 至 {until}", sections) or result


def verify_out(verdict: Verdict, tail: UnsignedTail) -> VerifyOut:
    failure = None
    if verdict.failure is not None:
        assert verdict.seq is not None and verdict.suspect_from is not None
        assert verdict.suspect_to is not None
        failure = FailureOut(
            reason=verdict.failure,
            reason_label=verdict.failure.label,
            seq=verdict.seq,
            suspect_from=verdict.suspect_from,
            suspect_to=verdict.suspect_to,
        )
    return VerifyOut(
        ok=verdict.ok,
        from_seq=verdict.from_seq,
        to_seq=verdict.to_seq,
        checked=verdict.checked,
        checkpoints_checked=verdict.anchors_checked,
        failure=failure,
        detail=verdict.detail,
        unsigned_tail=UnsignedTailOut(
            entries=tail.entries, oldest_recorded_at=tail.oldest_recorded_at, age_seconds=tail.age_seconds
        ),
    )


def own_checkpoint_out(checkpoint: Checkpoint, *, node_org: str, node: str) -> CheckpointOut:
    """A checkpoint this node signed: its rows leave out the node, which is this one."""
    return CheckpointOut(node_org=node_org, node=node, **checkpoint.model_dump(exclude={"id"}))


def entry_out(row: Any, names: Mapping[str, str]) -> EntryOut:
    """A log entry as listed, its unit named beside its code."""
    return EntryOut.model_validate(row).model_copy(update={"org_name": names.get(row.org)})
