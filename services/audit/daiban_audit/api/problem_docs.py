"""The errors the audit routes answer, as the OpenAPI document shows them."""

from __future__ import annotations

from daiban_common.openapi import ProblemDoc

OUTSIDE_SUBTREE = ProblemDoc(
    404,
    "The org unit asked for (or this node's) is outside the caller's subtree; its existence is not revealed",
    detail="请求的资源不存在",
)
UNKNOWN_PARAMETER = ProblemDoc(
    422,
    "An unknown query parameter (a misspelt filter is refused, never ignored), or an invalid one",
    detail="不支持的查询参数：cases；可用的参数有：case、actor、org、type、from、to、limit、cursor",
    errors=[("cases", "不支持的查询参数")],
)
SEQUENCE_RANGE = ProblemDoc(422, "to_seq before from_seq", errors=[("to_seq", "结束序号不能小于起始序号")])
CHECKPOINT_REFUSED = ProblemDoc(
    422,
    "A checkpoint handed in is not this node's or its signature does not verify",
    errors=[("checkpoints[0]", "检查点签名无效，或不是本节点的密钥签署的")],
)
DAY_RANGE = ProblemDoc(
    422, "The range of days is reversed or too long", errors=[("to", "查询区间不能超过366天")]
)
