"""Every error response is RFC 9457 `application/problem+json`, with a Chinese `detail`.

Services raise a `Problem` (or one of its subclasses) anywhere below the route; the handlers
`daiban_common.error_handlers.install_error_handlers` installs turn it, FastAPI's validation
errors, Starlette's `HTTPException`s and anything unexpected into the one shape the front ends
know:

    {"type": "/problems/not-found", "title": "Not found", "status": 404,
     "detail": "请求的资源不存在", "instance": "/v1/cases/X", "errors": [], ...extensions}

`errors` is always present (empty unless the input was invalid) so clients never need to test for
its existence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Self

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

__all__ = [
    "MAX_BODY_BYTES",
    "PROBLEM_MEDIA_TYPE",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "problem_response",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
MAX_BODY_BYTES: Final = 1024 * 1024

# Members defined by RFC 9457 (plus our `errors`); an extension must not shadow them.
_RESERVED_MEMBERS: Final = frozenset({"type", "title", "status", "detail", "instance", "errors"})


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input field: a dotted path (`materials[1].copies`) and a Chinese message."""

    field: str
    message: str


class Problem(Exception):
    """An error that becomes a problem+json response; subclasses set the class-level defaults."""

    status: int = 500
    type: str = "/problems/internal"
    title: str = "Internal error"
    default_detail: ClassVar[str] = "服务器内部错误，请稍后重试"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        # Named after the RFC 9457 member, shadowing the builtin on purpose.
        type: str | None = None,
        title: str | None = None,
    ) -> None:
        self.detail: str = detail if detail is not None else self.default_detail
        super().__init__(self.detail)
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        if title is not None:
            self.title = title
        self.errors: list[FieldError] = list(errors)
        self.extensions: dict[str, Any] = dict(extensions or {})
        clash = _RESERVED_MEMBERS.intersection(self.extensions)
        if clash:
            raise ValueError(f"problem extensions must not redefine {sorted(clash)}")
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(status={self.status}, type={self.type!r}, detail={self.detail!r})"


class InvalidInput(Problem):
    status = 422
    type = "/problems/validation"
    title = "Validation failed"
    default_detail = "提交的数据有误，请按错误提示逐项修改"

    @classmethod
    def field(cls, field: str, message: str, *, detail: str | None = None) -> Self:
        """The common case of one bad field, e.g. `InvalidInput.field("limit", "不能大于100")`."""
        return cls(detail, errors=[FieldError(field, message)])


class Unauthorized(Problem):
    status = 401
    type = "/problems/unauthorized"
    title = "Unauthorized"
    default_detail = "请先登录"


class Forbidden(Problem):
    status = 403
    type = "/problems/forbidden"
    title = "Forbidden"
    default_detail = "您无权执行此操作"


class NotFound(Problem):
    status = 404
    type = "/problems/not-found"
    title = "Not found"
    default_detail = "请求的资源不存在"


class Conflict(Problem):
    status = 409
    type = "/problems/conflict"
    title = "Conflict"
    default_detail = "操作与当前状态冲突，请刷新后重试"


class PayloadTooLarge(Problem):
    status = 413
    type = "/problems/payload-too-large"
    title = "Content too large"
    default_detail = "请求内容过大"


class TooManyRequests(Problem):
    status = 429
    type = "/problems/too-many-requests"
    title = "Too many requests"
    default_detail = "请求过于频繁，请稍后再试"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after_seconds: int | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after_seconds)} if retry_after_seconds is not None else None
        super().__init__(detail, extensions=extensions, headers=headers)


class ServiceUnavailable(Problem):
    status = 503
    type = "/problems/unavailable"
    title = "Service unavailable"
    default_detail = "服务暂时不可用，请稍后重试"


def problem_response(problem: Problem, instance: str) -> JSONResponse:
    """The problem+json response for `problem`; `instance` is the request path."""
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
        "errors": [{"field": e.field, "message": e.message} for e in problem.errors],
    }
    body.update(jsonable_encoder(problem.extensions))
    headers = dict(problem.headers)
    if problem.status == 401:
        # RFC 9110 requires a challenge on every 401.
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=problem.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
