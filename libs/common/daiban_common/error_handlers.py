"""The handlers and middlewares that turn everything that goes wrong below a route into
problem+json: a `Problem`, FastAPI's validation errors (in Chinese, `daiban_common.validation`),
Starlette's own HTTP errors (unknown route, wrong method), a body over the limit, a database that
is away (503), and anything unexpected (500, logged)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daiban_common.errors import (
    MAX_BODY_BYTES,
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    problem_response,
)
from daiban_common.faults import is_unavailable
from daiban_common.validation import INVALID_JSON, has_cjk, validation_problem

logger = logging.getLogger(__name__)

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
    if exc.detail and has_cjk(exc.detail):
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
    return problem_response(validation_problem(exc), _instance(request))


async def _handle_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400:
        # Not errors: a 304 for If-None-Match must go out without a body.
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers 400 for a JSON body that is not UTF-8 but 422 for one that is not JSON:
        # both are the same mistake of the client, answered the same way.
        invalid = InvalidInput(errors=[FieldError("body", INVALID_JSON)])
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
