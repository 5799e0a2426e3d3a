"""Every error answer is one problem+json shape with a Chinese detail and the request path."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import Message, Receive, Scope, Send

from daiban_common.error_handlers import BodySizeLimitMiddleware, install_error_handlers
from daiban_common.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
    TooManyRequests,
    Unauthorized,
    problem_response,
)
from daiban_common.validation import field_path, validation_message

PROBLEM = "application/problem+json"
MIB = 1024 * 1024


class Kind(StrEnum):
    immediate = "immediate"
    promised = "promised"


class Applicant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=20)
    id_number: str

    @field_validator("id_number")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        if not value.endswith("X"):
            raise ValueError("身份证号码校验位错误")
        return value


class Material(BaseModel):
    name: str
    copies: int = Field(ge=1)


class Application(BaseModel):
    model_config = ConfigDict(extra="forbid")

    applicant: Applicant
    kind: Kind
    materials: list[Material] = Field(min_length=1)


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MIB)

    @app.post("/v1/applications")
    async def create_application(application: Application) -> dict[str, int]:
        return {"materials": len(application.materials)}

    @app.post("/v1/uploads")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @app.get("/v1/search")
    async def search(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/v1/items/{code}")
    async def get_item(code: str) -> dict[str, str]:
        raise NotFound("事项不存在或已停用")

    @app.get("/v1/cases/{number}/decide")
    async def conflict(number: str) -> None:
        raise Conflict("办件已办结，不能再次审批", extensions={"current_state": "decided"})

    @app.get("/v1/notice")
    async def notice() -> None:
        raise Problem(
            "材料不齐全，已出具一次性告知书",
            status=422,
            type="/problems/one-time-notice",
            title="One-time notice issued",
            errors=[FieldError("materials[0]", "缺少户口簿复印件")],
            extensions={"notice_number": "GZ-370285-20250101-0001"},
        )

    @app.get("/v1/secure")
    async def secure() -> None:
        raise Unauthorized()

    @app.get("/v1/busy")
    async def busy() -> None:
        raise TooManyRequests(retry_after_seconds=30)

    @app.get("/v1/legacy")
    async def legacy() -> None:
        raise HTTPException(status_code=409, detail="State conflict")

    @app.get("/v1/legacy-cn")
    async def legacy_cn() -> None:
        raise HTTPException(status_code=409, detail="该窗口已关闭")

    @app.get("/v1/not-modified")
    async def not_modified() -> None:
        raise HTTPException(status_code=304, headers={"ETag": '"v1"'})

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("password=hunter2 in SELECT * FROM secrets")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int, type_: str, path: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == type_
    assert body["instance"] == path
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["errors"], list)
    return body


def valid_application() -> dict[str, Any]:
    return {
        "applicant": {"name": "张三", "id_number": "37028519900101123X"},
        "kind": "immediate",
        "materials": [{"name": "身份证", "copies": 1}, {"name": "户口簿", "copies": 2}],
    }


def errors_by_field(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


# --- validation ----------------------------------------------------------------------------------


async def test_valid_body_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/applications", json=valid_application())
    assert response.status_code == 200
    assert response.json() == {"materials": 2}


async def test_field_paths_and_chinese_messages(client: httpx.AsyncClient) -> None:
    payload = valid_application()
    payload["applicant"]["id_number"] = "370285199001011234"
    payload["applicant"]["nickname"] = "小张"
    del payload["applicant"]["name"]
    payload["kind"] = "urgent"
    payload["materials"][1]["copies"] = 0

    response = await client.post("/v1/applications", json=payload)

    body = assert_problem(response, 422, "/problems/validation", "/v1/applications")
    assert "修改" in body["detail"]
    errors = errors_by_field(body)
    assert errors["applicant.id_number"] == "身份证号码校验位错误"
    assert errors["applicant.name"] == "必填字段缺失"
    assert errors["applicant.nickname"] == "不允许的字段"
    assert errors["materials[1].copies"] == "不能小于1"
    assert errors["kind"] == "取值必须是以下之一：'immediate'、'promised'"
    assert len(body["errors"]) == 5


async def test_too_long_string_and_empty_list(client: httpx.AsyncClient) -> None:
    payload = valid_application()
    payload["applicant"]["name"] = "张" * 21
    payload["materials"] = []

    body = assert_problem(
        await client.post("/v1/applications", json=payload), 422, "/problems/validation", "/v1/applications"
    )
    errors = errors_by_field(body)
    assert errors["applicant.name"] == "长度不能超过20个字符"
    assert errors["materials"] == "至少需要1项"


async def test_invalid_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/applications", content=b'{"applicant": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "/problems/validation", "/v1/applications")
    assert body["errors"] == [{"field": "body", "message": "请求体不是有效的JSON"}]


async def test_missing_body(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.post("/v1/applications"), 422, "/problems/validation", "/v1/applications"
    )
    assert body["errors"] == [{"field": "body", "message": "缺少请求体"}]


async def test_query_parameters_keep_their_name(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.get("/v1/search", params={"limit": 101}), 422, "/problems/validation", "/v1/search"
    )
    assert body["errors"] == [{"field": "limit", "message": "不能大于100"}]

    body = assert_problem(
        await client.get("/v1/search", params={"limit": "ten"}), 422, "/problems/validation", "/v1/search"
    )
    assert body["errors"] == [{"field": "limit", "message": "应为整数"}]


async def test_validation_response_does_not_echo_input(client: httpx.AsyncClient) -> None:
    payload = valid_application()
    payload["applicant"]["id_number"] = "370285199001011234"
    response = await client.post("/v1/applications", json=payload)
    assert "370285199001011234" not in response.text


# --- problems raised by routes -------------------------------------------------------------------


async def test_not_found_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/items/X1"), 404, "/problems/not-found", "/v1/items/X1")
    assert body["detail"] == "事项不存在或已停用"
    assert body["errors"] == []


async def test_conflict_with_extension(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.get("/v1/cases/A1/decide"), 409, "/problems/conflict", "/v1/cases/A1/decide"
    )
    assert body["detail"] == "办件已办结，不能再次审批"
    assert body["current_state"] == "decided"


async def test_custom_problem_type(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/notice"), 422, "/problems/one-time-notice", "/v1/notice")
    assert body["notice_number"] == "GZ-370285-20250101-0001"
    assert body["errors"] == [{"field": "materials[0]", "message": "缺少户口簿复印件"}]
    assert body["title"] == "One-time notice issued"


async def test_unauthorized_carries_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/secure")
    body = assert_problem(response, 401, "/problems/unauthorized", "/v1/secure")
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["detail"] == "请先登录"


async def test_too_many_requests_has_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/busy")
    assert_problem(response, 429, "/problems/too-many-requests", "/v1/busy")
    assert response.headers["retry-after"] == "30"


# --- Starlette's own errors ----------------------------------------------------------------------


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/nowhere"), 404, "/problems/not-found", "/v1/nowhere")
    assert body["detail"] == "请求的资源不存在"


async def test_wrong_method_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/applications")
    body = assert_problem(response, 405, "/problems/method-not-allowed", "/v1/applications")
    assert body["detail"] == "此地址不支持DELETE请求"
    assert body["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "POST"


async def test_http_exception_english_detail_becomes_chinese(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/legacy"), 409, "/problems/conflict", "/v1/legacy")
    assert body["detail"] == "操作与当前状态冲突，请刷新后重试"

    body = assert_problem(await client.get("/v1/legacy-cn"), 409, "/problems/conflict", "/v1/legacy-cn")
    assert body["detail"] == "该窗口已关闭"


async def test_not_modified_stays_bodiless(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/not-modified")
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"v1"'


# --- unexpected errors ---------------------------------------------------------------------------


async def test_unexpected_exception_is_500_without_leaking(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="daiban_common.error_handlers"):
        response = await client.get("/v1/boom")

    body = assert_problem(response, 500, "/problems/internal", "/v1/boom")
    assert body["detail"] == "服务器内部错误，请稍后重试"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    logged = [r for r in caplog.records if r.name == "daiban_common.error_handlers"]
    assert logged and logged[0].exc_info is not None
    assert "/v1/boom" in logged[0].getMessage()


# --- body size limit -----------------------------------------------------------------------------


async def test_declared_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/applications", content=b"x" * (2 * MIB), headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 413, "/problems/payload-too-large", "/v1/applications")
    assert body["detail"] == "请求内容超过1 MiB的上限"
    assert body["max_bytes"] == MIB


async def test_streamed_oversize_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(32):
            yield b"x" * (64 * 1024)

    for path in ("/v1/uploads", "/v1/applications"):
        response = await client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert_problem(response, 413, "/problems/payload-too-large", path)


async def test_body_at_the_limit_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/uploads", content=b"x" * MIB)
    assert response.status_code == 200
    assert response.json() == {"size": MIB}


async def test_limit_stops_reading_without_buffering() -> None:
    """An endless body is cut off right after the limit, not read to the end."""
    chunk = b"x" * 1024
    reads = 0

    async def endless_receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def reading_app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            await receive()

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = BodySizeLimitMiddleware(reading_app, max_bytes=8 * 1024)
    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/uploads", "headers": []}
    await middleware(scope, endless_receive, send)

    assert reads == 9
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]


# --- pure helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "applicant", "id_number"), "applicant.id_number"),
        (("body", "materials", 1, "copies"), "materials[1].copies"),
        (("body", "grid", 0, 2), "grid[0][2]"),
        (("query", "limit"), "limit"),
        (("path", "case_number"), "case_number"),
        (("header", "idempotency-key"), "idempotency-key"),
        (("body",), "body"),
        (("applicant", "name"), "applicant.name"),
    ],
)
def test_field_path(loc: tuple[str | int, ...], expected: str) -> None:
    assert field_path(loc) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "missing", "msg": "Field required"}, "必填字段缺失"),
        ({"type": "int_parsing", "msg": "..."}, "应为整数"),
        ({"type": "string_too_long", "msg": "...", "ctx": {"max_length": 18}}, "长度不能超过18个字符"),
        (
            {"type": "literal_error", "msg": "...", "ctx": {"expected": "1, 2 or 3"}},
            "取值必须是以下之一：1、2、3",
        ),
        (
            {"type": "value_error", "msg": "Value error, 号码错误", "ctx": {"error": ValueError("号码错误")}},
            "号码错误",
        ),
        # An English ValueError from a library falls back to the generic message.
        (
            {"type": "value_error", "msg": "Value error, bad", "ctx": {"error": ValueError("bad")}},
            "取值无效（Value error, bad）",
        ),
        ({"type": "greater_than_equal", "msg": "...", "ctx": {}}, "取值无效（...）"),
        ({"type": "something_new", "msg": "Something odd"}, "取值无效（Something odd）"),
        ({"type": "custom_code", "msg": "统一社会信用代码校验位错误"}, "统一社会信用代码校验位错误"),
    ],
)
def test_validation_message(error: dict[str, Any], expected: str) -> None:
    assert validation_message(error) == expected


def test_problem_defaults_and_overrides() -> None:
    problem = NotFound()
    assert (problem.status, problem.type, problem.detail) == (404, "/problems/not-found", "请求的资源不存在")
    assert str(problem) == "请求的资源不存在"

    invalid = InvalidInput.field("applicant.id_number", "身份证号码校验位错误")
    assert invalid.status == 422
    assert invalid.errors == [FieldError("applicant.id_number", "身份证号码校验位错误")]

    custom = Problem("已出具告知书", status=422, type="/problems/one-time-notice", title="Notice")
    assert (custom.status, custom.type, custom.title) == (422, "/problems/one-time-notice", "Notice")
    # Class defaults stay untouched by an instance override.
    assert Problem.status == 500


def test_extensions_cannot_shadow_standard_members() -> None:
    with pytest.raises(ValueError, match="status"):
        Conflict(extensions={"status": 200})


def test_problem_response_shape() -> None:
    response = problem_response(Unauthorized("登录已过期"), "/v1/me")
    assert response.status_code == 401
    assert response.media_type == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert bytes(response.body).decode() == (
        '{"type":"/problems/unauthorized","title":"Unauthorized","status":401,'
        '"detail":"登录已过期","instance":"/v1/me","errors":[]}'
    )
