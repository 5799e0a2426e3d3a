"""Printable HTML for the citizen: the acceptance receipt (受理回执) and the one-time notice (一次性告知书).

Plain string templates; every value goes through `html.escape`, since names and addresses are
typed by people.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from daiban_common.calendar import SHANGHAI
from daiban_intake.schemas import NoticeOut, ReceiptOut

_STYLE = """
body { font-family: "Songti SC", "SimSun", serif; max-width: 720px; margin: 2em auto; color: #000; }
h1 { text-align: center; font-size: 1.6em; letter-spacing: 0.2em; }
table { width: 100%; border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #000; padding: 0.4em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; width: 28%; }
.note { font-size: 0.9em; margin-top: 1.5em; }
.sign { margin-top: 3em; text-align: right; }
@media print { body { margin: 0 auto; } }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs)


def _table(head: list[str], rows: Iterable[list[object]]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _when(ts: datetime) -> str:
    return ts.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def receipt_html(receipt: ReceiptOut) -> str:
    a = receipt.applicant
    identity = a.id_number or a.credit_code or ""
    promised = receipt.promised_date.strftime("%Y年%m月%d日") + (
        "（暂定）" if receipt.promised_date_provisional else ""
    )
    info = _rows(
        [
            ("办件编号", receipt.case_number),
            ("查询码", receipt.query_code),
            ("办理事项", f"{receipt.item.name}（{receipt.item.kind_label}）"),
            ("事项编码", f"{receipt.item.implementation_code} 第{receipt.item.version}版"),
            ("申请人", a.name),
            ("证件号码", identity),
            ("联系电话", a.phone or ""),
            ("受理单位", receipt.accepting_org),
            ("受理方式", receipt.channel_label),
            ("受理时间", _when(receipt.accepted_at)),
            ("承诺办结日期", promised),
            ("首问责任人", receipt.first_responder.name),
        ]
    )
    materials = _table(
        ["材料编号", "材料名称", "形式", "份数"],
        ([m.code, m.name, m.form_label, m.copies] for m in receipt.materials),
    )
    deficiencies = ""
    if receipt.deficiencies:
        deficiencies = "<h2>容缺材料（请按期补交）</h2>" + _table(
            ["材料编号", "材料名称", "承诺补交日期"],
            ([d.code, d.name, d.due_date.isoformat()] for d in receipt.deficiencies),
        )
    body = (
        f"<table>{info}</table><h2>已收材料</h2>{materials}{deficiencies}"
        f'<p class="note">{escape(receipt.progress_hint)}</p><p class="sign">（受理专用章）</p>'
    )
    return _page("受理回执", body)


def notice_html(notice: NoticeOut) -> str:
    info = _rows(
        [
            ("告知书编号", notice.notice_number),
            ("申请人", notice.applicant_name),
            ("申请事项", f"{notice.item_name}（{notice.item_code} 第{notice.item_version}版）"),
            ("告知单位", notice.org),
            ("告知时间", _when(notice.issued_at)),
            ("经办人", notice.issued_by.name),
        ]
    )
    issues = _table(
        ["材料编号", "材料名称", "问题", "须提交形式", "份数", "说明"],
        (
            [
                i.material_code,
                i.material_name,
                i.problem_label,
                i.required_form_label,
                i.required_copies,
                i.note,
            ]
            for i in notice.issues
        ),
    )
    body = (
        f"<table>{info}</table><p>您申请的事项，经审查，所需材料尚有以下{len(notice.issues)}项不齐全或不符合要求。"
        "现一次性告知如下，请补齐后再来办理：</p>"
        f'{issues}<p class="note">本告知书一次性列明全部问题，补齐上述材料后即予受理。</p>'
        '<p class="sign">（受理专用章）</p>'
    )
    return _page("一次性告知书", body)
