"""The errors intake's routes answer, as the OpenAPI document shows them (recorded answers)."""

from __future__ import annotations

from daiban_common import idempotency
from daiban_common.openapi import ProblemDoc

_NOTICE_ISSUES = [
    {
        "material_code": "M02",
        "material_name": "申请人居民身份证或居民户口簿",
        "problem": "missing",
        "problem_label": "未提交",
        "required_form": "copy",
        "required_form_label": "复印件",
        "required_copies": 1,
        "note": "",
    },
    {
        "material_code": "M03",
        "material_name": "社会保障卡或银行账户信息",
        "problem": "missing",
        "problem_label": "未提交",
        "required_form": "copy",
        "required_form_label": "复印件",
        "required_copies": 1,
        "note": "",
    },
]

NOTICE_TYPE = "/problems/one-time-notice"
ONE_TIME_NOTICE = ProblemDoc(
    422,
    "One-time notice: every missing or unfit material at once, no case created (the notice is kept)",
    detail="材料不齐全或不符合要求，共2项，请按一次性告知书一次补齐后再来办理",
    type=NOTICE_TYPE,
    title="One-time notice",
    errors=[
        ("materials.M02", "申请人居民身份证或居民户口簿：未提交"),
        ("materials.M03", "社会保障卡或银行账户信息：未提交"),
    ],
    extensions={
        "notice_number": "370285101294-20261201-G0001",
        "notice": {
            "notice_number": "370285101294-20261201-G0001",
            "org": "370285101294",
            "item_code": "JF-00405-001-370285000000-01",
            "item_name": "80周岁以上老年人高龄津贴发放",
            "item_version": 2,
            "applicant_name": "王秀英",
            "issued_by": {"staff_id": "js-294-agent", "name": "许春花", "org": "370285101294"},
            "issued_at": "2026-12-01T13:41:14.937668Z",
            "issues": _NOTICE_ISSUES,
        },
        "notice_url": "/v1/notices/370285101294-20261201-G0001.html",
    },
)
INVALID_ID = ProblemDoc(
    422,
    "Invalid input, e.g. a resident ID whose check digit is wrong",
    errors=[("applicant.id_number", "身份证号码校验位错误")],
)
ORG_OUTSIDE = ProblemDoc(
    404,
    "The accepting org unit is unknown or outside the caller's subtree (or the item unknown)",
    detail="受理单位不存在或不在您的管辖范围内",
    errors=[("org", "不在您的管辖范围内")],
)
KEY_REUSED = idempotency.KEY_REUSED
CASE_NOT_FOUND = ProblemDoc(404, "No such case in the caller's subtree", detail="办件不存在")
NOTICE_NOT_FOUND = ProblemDoc(404, "No such notice in the caller's subtree", detail="一次性告知书不存在")
COMPLAINT_NOT_FOUND = ProblemDoc(404, "No such complaint in the caller's subtree", detail="投诉不存在")
PUBLIC_NOT_FOUND = ProblemDoc(
    404,
    "No case with this number and query code (the two are never told apart)",
    detail="未找到该办件，请核对办件编号和查询码",
)
NOT_WAITING = ProblemDoc(
    409,
    "Nothing is asked for: no supplement requested and no deficiency outstanding",
    detail="该办件当前没有待补正或待补交的材料",
    type="/problems/not-waiting-for-supplement",
    title="Not waiting for a supplement",
)
SUPPLEMENT_INCOMPLETE = ProblemDoc(
    422,
    "Not every material the supplement request asked for was brought",
    detail="补正材料不齐全",
    errors=[("materials", "还须补正：家庭经济状况核对授权书")],
)
NOT_READY = ProblemDoc(
    409,
    "The result is not (or no longer) waiting at this point to be handed over",
    detail="办件尚未作出决定，不能送达",
    type="/problems/not-ready-for-handover",
    title="Not ready for handover",
)
IDENTITY_REQUIRED = ProblemDoc(
    422,
    "Handing over in person needs the recipient's name and ID number",
    detail="当面送达须核验领取人身份",
    errors=[("recipient_id_number", "必填字段缺失")],
)
ALREADY_EVALUATED = ProblemDoc(
    409,
    "The case was evaluated already (once per case)",
    detail="该办件已评价，每件只能评价一次",
    type="/problems/already-evaluated",
    title="Already evaluated",
)
NOT_HANDED_OVER = ProblemDoc(
    409,
    "The result has not been handed over yet",
    detail="办理结果送达后才能评价",
    type="/problems/not-handed-over",
    title="Not handed over yet",
)
UNKNOWN_SCORE = ProblemDoc(
    422,
    "A score names an unknown criterion",
    errors=[
        ("scores.speed", "未知的评价指标，可选：attitude、efficiency、transparency、convenience、integrity")
    ],
)
COMPLAINT_ORG = ProblemDoc(
    404,
    "The case (number and query code) or the org unit complained about is not served here",
    detail="该单位不在本节点服务范围内",
    errors=[("org", "不在本节点服务范围内")],
)
