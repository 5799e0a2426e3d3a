"""The errors intake's routes answer, as the OpenAPI document shows them (recorded answers)."""

from __future__ import annotations

from daiban_common import idempotency
from daiban_common.openapi import ProblemDoc
from daiban_common.staffdir import NOT_IN_DIRECTORY_DOC
from daiban_intake.api.links import LINK_REFUSED_TYPE

# Walkthrough step 2a: 最低生活保障审核确认 with M04 missing and no condition claimed.
_NOTICE_ISSUES = [
    {
        "material_code": "M04",
        "material_name": "家庭收入和财产状况申报（承诺）表",
        "problem": "missing",
        "problem_label": "未提交",
        "required_form": "original",
        "required_form_label": "原件",
        "required_copies": 1,
        "note": "",
    },
]
_NOTICE_CONDITIONAL = [
    {
        "material_code": "M05",
        "material_name": "残疾人证",
        "condition": "家庭成员中有残疾人的",
        "required_form": "copy",
        "required_form_label": "复印件",
        "required_copies": 1,
        "fetched_by_window": True,
        "note": "如：家庭成员中有残疾人的，请告知窗口，残疾人证由窗口调取，无需自备",
    },
    {
        "material_code": "M06",
        "material_name": "医院诊断证明或病历",
        "condition": "因病致困申请的",
        "required_form": "copy",
        "required_form_label": "复印件",
        "required_copies": 1,
        "fetched_by_window": False,
        "note": "如：因病致困申请的，还需提交医院诊断证明或病历（复印件1份）",
    },
]
NOTICE_EXAMPLE = {
    "notice_number": "370285101294-20261201-G0002",
    "org": "370285101294",
    "org_name": "姜山社区村民委员会",
    "item_code": "JF-00401-001-370285000000-01",
    "item_name": "最低生活保障审核确认",
    "item_version": 3,
    "applicant_name": "孙玉兰",
    "issued_by": {
        "staff_id": "js-294-agent",
        "name": "许春花",
        "org": "370285101294",
        "org_name": "姜山社区村民委员会",
    },
    "issued_at": "2026-12-01T13:42:03.512208Z",
    "issues": _NOTICE_ISSUES,
    "conditional": _NOTICE_CONDITIONAL,
}

NOTICE_TYPE = "/problems/one-time-notice"
ONE_TIME_NOTICE = ProblemDoc(
    422,
    "One-time notice: every missing or unfit material at once, and the conditional materials not "
    "claimed in conditions_met with their conditions; no case created (the notice is kept)",
    detail="材料不齐全或不符合要求，共1项，请按一次性告知书一次补齐后再来办理；另有2项材料视情形提交，详见告知书",
    type=NOTICE_TYPE,
    title="One-time notice",
    errors=[("materials", "家庭收入和财产状况申报（承诺）表：未提交")],
    extensions={
        "notice_number": NOTICE_EXAMPLE["notice_number"],
        "notice": NOTICE_EXAMPLE,
        "notice_url": "/v1/notices/370285101294-20261201-G0002.html?expires=1796097723"
        "&sig=5b0e3f0c9d8a1e6f2c4b7a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b",
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
# Acceptance, supplements and handover: only someone of routing's directory, at the token's org.
NOT_IN_DIRECTORY = NOT_IN_DIRECTORY_DOC
CASE_NOT_FOUND = ProblemDoc(404, "No such case in the caller's subtree", detail="办件不存在")
NOTICE_NOT_FOUND = ProblemDoc(404, "No such notice in the caller's subtree", detail="一次性告知书不存在")
COMPLAINT_NOT_FOUND = ProblemDoc(404, "No such complaint in the caller's subtree", detail="投诉不存在")
PUBLIC_NOT_FOUND = ProblemDoc(
    404,
    "No case with this number and query code (the two are never told apart)",
    detail="未找到该办件，请核对办件编号和查询码",
)
BOARD_NOT_FOUND = ProblemDoc(
    404,
    "No service point with this code whose cases this node handles",
    detail="未找到该服务场所，或其办件不在本节点办理",
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
LINK_REFUSED = ProblemDoc(
    403,
    "No token, and the signed link (expires, sig) is expired, incomplete, or not made for this page",
    detail="打印链接已过期（有效期15分钟），请从受理系统重新打开",
    type=LINK_REFUSED_TYPE,
    title="Print link refused",
    errors=[("expires", "链接已过期")],
)
