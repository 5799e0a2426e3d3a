"""The errors the catalogue's routes answer, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any

from daiban_common.idempotency import KEY_REUSED
from daiban_common.openapi import NOT_MODIFIED, ProblemDoc, default_problem, problem_responses

_DOCS: dict[int, tuple[ProblemDoc, ...]] = {
    401: (ProblemDoc(401, "No valid bearer token", detail="缺少身份令牌，请先登录"),),
    403: (
        ProblemDoc(
            403,
            "Not an administrator of the county (other nodes hold read-only replicas)",
            detail="事项目录只能由县级管理员维护",
        ),
    ),
    404: (ProblemDoc(404, "No such item or version", detail="事项不存在"),),
    409: (
        ProblemDoc(
            409,
            "Conflicts with the item's versions (published versions are immutable, retired items stay so)",
            detail="第1版已发布，不能修改；请基于该版本创建草稿并发布新版本",
            type="/problems/catalogue-conflict",
            errors=[("version", "第1版已发布，不能修改；请基于该版本创建草稿并发布新版本")],
        ),
        KEY_REUSED,
    ),
    413: (default_problem(413),),
    422: (
        ProblemDoc(
            422,
            "Invalid input, or the draft breaks a catalogue rule; `errors` names each field",
            detail="事项内容不符合规则，请按错误提示逐项修改",
            errors=[("promised_working_days", "承诺时限不能超过法定时限")],
        ),
    ),
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries, with problem+json examples, for the errors a route can answer."""
    documented = problem_responses(*(doc for status in statuses for doc in _DOCS.get(status, ())))
    if 304 in statuses:
        documented[304] = NOT_MODIFIED
    return documented
