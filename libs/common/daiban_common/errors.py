"""Every error response is RFC 9457 `application/problem+json`, with a Chinese `detail`.

Services raise a `Problem` (or one of its subclasses) anywhere below the route; the handlers
installed by `install_error_handlers` turn it, FastAPI's validation errors, Starlette's
`HTTPException`s and anything unexpected into the one shape the front ends know:

    {"type": "/problems/not-found", "title": "Not found", "status": 404,
     "detail": "请求的资源不存在", "instance": "/v1/cases/X", "errors": [], ...extensions}

`errors` is always present (empty unless the input was invalid) so clients never need to test for
its existence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Final, Self

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daiban_common.faults import is_unavailable
from daiban_contracts.text import STORABLE_PATTERN, UNSTORABLE_MESSAGE

__all__ = [
    "MAX_BODY_BYTES",
    "PROBLEM_MEDIA_TYPE",
    "BodySizeLimitMiddleware",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "ServiceUnavailable",
    "ServiceUnavailableMiddleware",
    "TooManyRequests",
    "Unauthorized",
    "field_path",
    "install_error_handlers",
    "problem_response",
    "validation_message",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
MAX_BODY_BYTES: Final = 1024 * 1024

# Members defined by RFC 9457 (plus our `errors`); an extension must not shadow them.
_RESERVED_MEMBERS: Final = frozenset({"type", "title", "status", "detail", "instance", "errors"})
_CJK_RE: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


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


# ---------------------------------------------------------------------------------------------
# Validation errors: pydantic's English messages become Chinese ones a clerk can act on.

_LOCATION_SOURCES: Final = frozenset({"body", "query", "path", "header", "cookie"})

_MESSAGES: Final[Mapping[str, str]] = {
    "missing": "必填字段缺失",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "请求体不是有效的JSON",
    "json_type": "应为JSON字符串",
    "none_required": "此处不应有值",
    "string_type": "应为字符串",
    "string_too_short": "长度不能少于{min_length}个字符",
    "string_too_long": "长度不能超过{max_length}个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": UNSTORABLE_MESSAGE,
    "string_not_ascii": "只能包含ASCII字符",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "int_parsing_size": "整数超出允许范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_digits": "数字总位数不能超过{max_digits}位",
    "decimal_max_places": "小数位数不能超过{decimal_places}位",
    "decimal_whole_digits": "整数部分不能超过{whole_digits}位",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "必须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "multiple_of": "必须是{multiple_of}的倍数",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多允许{max_length}项",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "frozen_set_type": "应为数组",
    "iterable_type": "应为数组",
    "dict_type": "应为对象",
    "mapping_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dataclass_type": "应为对象",
    "enum": "取值必须是以下之一：{expected}",
    "literal_error": "取值必须是以下之一：{expected}",
    "union_tag_invalid": "类型标识{tag}无效，应为以下之一：{expected_tags}",
    "union_tag_not_found": "缺少类型标识字段{discriminator}",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期，不能带时间",
    "date_past": "日期必须早于今天",
    "date_future": "日期必须晚于今天",
    "time_type": "应为时间（HH:MM:SS）",
    "time_parsing": "应为时间（HH:MM:SS）",
    "datetime_type": "应为带时区的时间（RFC 3339）",
    "datetime_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_from_date_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_object_invalid": "时间无效",
    "datetime_past": "时间必须早于当前时间",
    "datetime_future": "时间必须晚于当前时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "必须带时区",
    "timezone_offset": "时区偏移应为{tz_expected}秒",
    "time_delta_type": "应为时长",
    "time_delta_parsing": "应为时长",
    "uuid_type": "应为UUID",
    "uuid_parsing": "应为UUID",
    "uuid_version": "应为第{expected_version}版UUID",
    "url_type": "应为网址",
    "url_parsing": "应为有效的网址",
    "url_syntax_violation": "应为有效的网址",
    "url_too_long": "网址过长",
    "url_scheme": "网址协议应为{expected_schemes}",
    "bytes_type": "应为字节串",
    "bytes_too_short": "长度不能少于{min_length}字节",
    "bytes_too_long": "长度不能超过{max_length}字节",
    "bytes_invalid_encoding": "编码无效",
    "frozen_field": "此字段不可修改",
    "recursion_loop": "数据存在循环引用",
    "recursion_depth_exceeded": "数据嵌套过深",
}

# pydantic writes choices as "'a', 'b' or 'c'"; Chinese lists them with the enumeration comma.
_CHOICE_SEPARATOR_RE: Final = re.compile(r"(?:, | or )(?=['\"\d-])")


def _has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "materials", 1, "copies")` -> `"materials[1].copies"`; a bare location stays."""
    parts = list(loc)
    source = ""
    if parts and isinstance(parts[0], str) and parts[0] in _LOCATION_SOURCES:
        source = str(parts.pop(0))
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or source


def validation_message(error: Mapping[str, Any]) -> str:
    """A Chinese message for one pydantic error dict (as in `ValidationError.errors()`)."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        # Our own validators raise ValueError with a Chinese sentence meant for the clerk.
        reason = str(ctx.get("error", ""))
        if _has_cjk(reason):
            return reason
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == STORABLE_PATTERN:
        return UNSTORABLE_MESSAGE
    elif kind in _MESSAGES:
        values = {
            key: _CHOICE_SEPARATOR_RE.sub("、", value) if isinstance(value, str) else value
            for key, value in ctx.items()
        }
        try:
            return _MESSAGES[kind].format_map(values)
        except (KeyError, IndexError, ValueError):
            pass
    elif _has_cjk(msg):
        # A PydanticCustomError of ours carries its Chinese message as `msg`.
        return msg
    return f"取值无效（{msg}）" if msg else "取值无效"


def _validation_problem(exc: RequestValidationError) -> InvalidInput:
    errors: list[FieldError] = []
    for error in exc.errors():
        loc: Sequence[str | int] = tuple(error.get("loc", ()))
        kind = error.get("type")
        if kind == "json_invalid":
            # FastAPI puts the character offset after "body"; that is no field.
            errors.append(FieldError("body", _MESSAGES["json_invalid"]))
        elif kind == "missing" and tuple(loc) == ("body",):
            errors.append(FieldError("body", "缺少请求体"))
        else:
            errors.append(FieldError(field_path(loc), validation_message(error)))
    return InvalidInput(errors=errors)


# ---------------------------------------------------------------------------------------------
# Starlette's own HTTP errors (unknown route, wrong method, ...) in the same shape.

_HTTP_TYPES: Final[Mapping[int, str]] = {
    400: "/problems/bad-request",
    401: Unauthorized.type,
    403: Forbidden.type,
    404: NotFound.type,
    405: "/problems/method-not-allowed",
    406: "/problems/not-acceptable",
    409: Conflict.type,
    412: "/problems/precondition-failed",
    413: PayloadTooLarge.type,
    415: "/problems/unsupported-media-type",
    422: InvalidInput.type,
    428: "/problems/precondition-required",
    429: TooManyRequests.type,
    500: Problem.type,
    503: ServiceUnavailable.type,
}

_HTTP_DETAILS: Final[Mapping[int, str]] = {
    400: "请求格式错误",
    401: Unauthorized.default_detail,
    403: Forbidden.default_detail,
    404: NotFound.default_detail,
    406: "无法提供所请求的格式",
    409: Conflict.default_detail,
    410: "请求的资源已不存在",
    412: "资源已被修改，请刷新后重试",
    413: PayloadTooLarge.default_detail,
    415: "不支持的请求内容类型",
    422: InvalidInput.default_detail,
    428: "缺少必需的条件请求头",
    429: TooManyRequests.default_detail,
    500: Problem.default_detail,
    501: "暂不支持此功能",
    502: ServiceUnavailable.default_detail,
    503: ServiceUnavailable.default_detail,
    504: ServiceUnavailable.default_detail,
}


def _http_problem(exc: StarletteHTTPException, method: str) -> Problem:
    status = exc.status_code
    if exc.detail and _has_cjk(exc.detail):
        detail = exc.detail
    elif status == 405:
        detail = f"此地址不支持{method}请求"
    elif status in _HTTP_DETAILS:
        detail = _HTTP_DETAILS[status]
    else:
        detail = "请求无法处理" if status < 500 else Problem.default_detail
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return Problem(
        detail,
        status=status,
        type=_HTTP_TYPES.get(status, "about:blank"),
        title=title,
        headers=dict(exc.headers or {}),
    )


# ---------------------------------------------------------------------------------------------
# Handlers


def _instance(request: Request) -> str:
    return str(request.scope.get("path", "")) or "/"


async def _handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if exc.status >= 500:
        logger.warning("%s %s answered %s: %s", request.method, _instance(request), exc.status, exc.detail)
    return problem_response(exc, _instance(request))


async def _handle_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(_validation_problem(exc), _instance(request))


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400:
        # Not errors: a 304 for If-None-Match must go out without a body.
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers 400 for a JSON body that is not UTF-8 but 422 for one that is not JSON:
        # both are the same mistake of the client, answered the same way.
        invalid = InvalidInput(errors=[FieldError("body", _MESSAGES["json_invalid"])])
        return problem_response(invalid, _instance(request))
    problem = _http_problem(exc, request.method)
    if exc.status_code == 405:
        problem.headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem_response(problem, _instance(request))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path, as the OpenAPI document lists them.

    Starlette's 405 names the methods of the first route whose path matched; a path served by
    several routes (GET and POST of a collection) must name them all. Of the templates that match,
    only the most literal count: `/v1/staff/import` is not also `/v1/staff/{id}`.
    FastAPI keeps included routers as lazy branches: `iter_route_contexts` flattens them.
    """
    path = _instance(request)
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = getattr(request.app, "routes", ())
    by_template: dict[str, set[str]] = {}
    for route in contexts(routes) if contexts is not None else routes:
        template = getattr(route, "path_format", None)
        if template and compile_path(template)[0].match(path):
            by_template.setdefault(template, set()).update(getattr(route, "methods", None) or ())
    if not by_template:
        return []
    fewest = min(template.count("{") for template in by_template)
    return sorted(set().union(*(m for t, m in by_template.items() if t.count("{") == fewest)))


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):
        # Only reached for errors raised outside ServiceUnavailableMiddleware.
        logger.warning("%s %s: database unavailable: %r", request.method, _instance(request), exc)
        return _unavailable_response(_instance(request))
    # The exception text may hold SQL, personal data or internals: log it, never send it.
    logger.error("unhandled error on %s %s", request.method, _instance(request), exc_info=exc)
    return problem_response(Problem(), _instance(request))


def _unavailable_response(instance: str) -> JSONResponse:
    # Nothing was committed; the pool has dropped its dead connections, so a retry works.
    return problem_response(ServiceUnavailable(headers={"Retry-After": "1"}), instance)


class ServiceUnavailableMiddleware:
    """Answer 503 problem+json when PostgreSQL or NATS is away, wherever the request met it.

    Not an exception handler for `Exception`: Starlette runs that one in its outermost middleware,
    which re-raises after responding, so uvicorn logged "Exception in ASGI application" with a
    full traceback and closed the keep-alive connection under every 503. Here the exception is
    answered and ends, with one log line. That covers errors from the route, its dependencies and
    the unit of work's rollback or close at the end (asyncpg's "another operation is in
    progress"). An outage noticed after the response was sent in full (a teardown) is logged
    and dropped: the client has its answer and keeps its connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if not is_unavailable(exc) or (started and not finished):
                raise
            path = str(scope.get("path", "")) or "/"
            method = scope.get("method", "")
            if finished:
                logger.warning("%s %s: database unavailable after the response: %r", method, path, exc)
                return
            logger.warning("%s %s answered 503: database unavailable: %r", method, path, exc)
            await _unavailable_response(path)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error `app` answers a problem+json response.

    The handler for `Exception` runs in Starlette's outermost middleware, which re-raises after
    responding so the server still logs the failure. It is bypassed when `app.debug` is true.
    """
    app.add_exception_handler(Problem, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)


# ---------------------------------------------------------------------------------------------
# Body size limit


class _BodyTooLarge(StarletteHTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body reader lets it through."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimitMiddleware:
    """Answer 413 problem+json to request bodies over `max_bytes`, without buffering them.

    A declared Content-Length over the limit is refused before the app runs. A body streamed
    without one is counted as the app reads it; once it passes the limit the read fails and
    whatever the app would have answered is replaced by the 413 (if nothing was sent yet).
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return

        received = 0
        overflowed = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, overflowed
            if overflowed:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    overflowed = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if overflowed and not response_started:
                # The app's own answer to the failed read (a 400, a 500, ...) is replaced below.
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not overflowed or response_started:
                raise
        if overflowed and not response_started:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        size = _human_size(self.max_bytes)
        problem = PayloadTooLarge(
            f"请求内容超过{size}的上限",
            extensions={"max_bytes": self.max_bytes},
            # The unread body stays on the connection; the client must open a new one.
            headers={"Connection": "close"},
        )
        response = problem_response(problem, str(scope.get("path", "")) or "/")
        await response(scope, receive, send)


def _human_size(n: int) -> str:
    if n and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n}字节"
