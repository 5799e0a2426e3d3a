"""Results and rows -> response bodies: items with their labels and department names, drafts,
pages, diffs, reform statistics, and the handbook as a printable HTML page (A4, one item per block,
Chinese throughout)."""

from __future__ import annotations

from html import escape

from daiban_catalogue.domain import DraftState, NewVersion, describe_reform, diff
from daiban_catalogue.queries import Found, Handbook, Reform
from daiban_catalogue.schemas import (
    DRAFT_STATUS_LABELS,
    DelegationOut,
    DiffOut,
    DraftOut,
    HandbookOut,
    ItemDraftBody,
    ItemOut,
    MaterialOut,
    ReformStatsOut,
    VersionSummary,
    http_names,
)
from daiban_common.idempotency import Answering, answering
from daiban_common.pagination import Page
from daiban_contracts.catalogue import ItemVersionData


def item_out(version: ItemVersionData, department_names: dict[str, str]) -> ItemOut:
    codes = (version.departments.lead, *version.departments.others)
    names = {code: department_names.get(code, code) for code in codes}
    return ItemOut.model_validate(http_names({**version.model_dump(), "department_names": names}))


def item_page(found: Found) -> Page[ItemOut]:
    items = [item_out(v, found.department_names) for v in found.versions]
    return Page[ItemOut](items=items, next_cursor=found.next_cursor, total=found.total)


def version_page(found: Found) -> Page[VersionSummary]:
    items = [VersionSummary.of(v) for v in found.versions]
    return Page[VersionSummary](items=items, next_cursor=found.next_cursor, total=found.total)


def diff_out(start: ItemVersionData, end: ItemVersionData) -> DiffOut:
    return DiffOut(
        item_code=end.implementation_code,
        from_version=start.version,
        to_version=end.version,
        changes=diff(start, end),
    )


def draft_out(state: DraftState) -> DraftOut:
    return DraftOut(
        item_code=state.implementation_code,
        status=state.status,
        status_label=DRAFT_STATUS_LABELS.get(state.status, state.status),
        current_version=state.current_version,
        draft=ItemDraftBody.of(state.draft),
        pending_changes=diff(state.current, state.draft) if state.current is not None else [],
    )


# The 201 answers of the creating POSTs (stored by the handlers for Idempotency-Key replays).
DRAFT_CREATED: Answering[DraftState] = answering(
    draft_out, lambda state: f"/v1/items/{state.implementation_code}/draft"
)
VERSION_CREATED: Answering[NewVersion] = answering(
    lambda created: item_out(created.version, created.department_names),
    lambda created: f"/v1/items/{created.version.implementation_code}/versions/{created.version.version}",
)


def handbook_out(book: Handbook) -> HandbookOut:
    org = book.org
    return HandbookOut(
        org=org.value,
        org_tier=org.tier,
        org_tier_label=org.tier.label,
        org_name=book.org_name,
        title=f"{book.org_name or ''}便民服务手册（{org.tier.label}，区划代码{org.value}）",
        item_count=len(book.versions),
        items=[item_out(v, book.department_names) for v in book.versions],
    )


def reform_out(reform: Reform) -> ReformStatsOut:
    return ReformStatsOut(
        **reform.stats.model_dump(),
        from_date=reform.start,
        to_date=reform.end,
        summary=describe_reform(reform.stats),
        delegations=[DelegationOut.of(v) for v in reform.moves],
    )


# The handbook as a printable HTML page.


_STYLE = """
body { font-family: "Noto Serif CJK SC", "SimSun", serif; margin: 2em; line-height: 1.6; }
h1 { text-align: center; } h2 { border-bottom: 1px solid #333; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #666; padding: 2px 6px; }
th { background: #eee; text-align: left; width: 9em; } .item { page-break-inside: avoid; }
@media print { body { margin: 0; } a { color: inherit; text-decoration: none; } }
"""


def render_handbook(book: HandbookOut) -> str:
    items = "\n".join(_item(i + 1, item) for i, item in enumerate(book.items))
    empty = "" if book.items else "<p>本地暂无可受理的事项。</p>"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(book.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(book.title)}</h1>"
        f"<p>本手册列出可在本地（{escape(book.org_tier_label)}）申请的{book.item_count}项事项，"
        "办理所需材料、时限、收费和审批机关以本手册为准；材料不全的，工作人员一次性告知。</p>"
        f"{empty}{items}</body></html>"
    )


def _item(number: int, item: ItemOut) -> str:
    rows = [
        ("事项编码", item.implementation_code),
        ("事项类型", f"{item.type_label}（{item.kind_label}）"),
        ("审批机关", item.where_decided),
        ("法定时限", _days(item.statutory_working_days)),
        ("承诺时限", _days(item.promised_working_days)),
        ("收费", item.fee_text),
        ("到现场次数", f"{item.hall_visits_required}次"),
        ("网上办理", "可网上办理" if item.online_available else "不可网上办理"),
        ("设定依据", "；".join(f"{b.law}{b.article}" for b in item.legal_basis)),
        ("生效日期", item.effective_date.isoformat()),
    ]
    if item.green_channel_eligible:
        rows.append(("绿色通道", "可走绿色通道"))
    if item.special_procedures:
        procedures = "；".join(
            f"{p.procedure_label}不超过{p.max_working_days}个工作日" for p in item.special_procedures
        )
        rows.append(("特别程序", f"{procedures}（不计入办理时限）"))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    conditions = "".join(f"<li>{escape(c)}</li>" for c in item.conditions)
    materials = "".join(_material(m) for m in item.materials)
    return (
        f'<div class="item"><h2>{number}. {escape(item.name)}</h2><table>{table}</table>'
        + (f"<h3>受理条件</h3><ol>{conditions}</ol>" if conditions else "")
        + "<h3>申请材料</h3><table><tr><th>材料</th><th>形式及份数</th><th>说明</th></tr>"
        + f"{materials}</table></div>"
    )


def _material(m: MaterialOut) -> str:
    notes = []
    if not m.required and m.condition:
        notes.append(f"以下情形需提供：{m.condition}")
    if m.deficiency_allowed:
        notes.append("可容缺受理，后补")
    if m.source.value == "government":
        notes.append("由政府部门核发，可由工作人员调取")
    if m.notes:
        notes.append(m.notes)
    name = escape(m.name)
    if m.template_url:
        name += f'（<a href="{escape(m.template_url)}">样表</a>）'
    form = f"{m.form_label}{m.copies}份"
    return f"<tr><td>{name}</td><td>{escape(form)}</td><td>{escape('；'.join(notes))}</td></tr>"


def _days(days: int) -> str:
    return f"{days}个工作日" if days else "即时办结"
