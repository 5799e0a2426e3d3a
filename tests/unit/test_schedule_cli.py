"""`daiban calendar load`: the file goes to routing's PUT as an admin; a refusal names each field."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from daiban_common.auth import TokenVerifier
from daiban_common.cli import main
from daiban_common.settings import Settings
from daiban_devtools.schedule import load

SCHEDULE = {"holidays": ["2031-01-01"], "workdays": [], "reference": "国办发明电〔2030〕7号"}


def _file(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "2031.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_file_is_put_with_an_admin_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings()
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {**json.loads(request.content), "changed": True, "recomputed_cases": ["C1"]}
        return httpx.Response(200, json=body)

    code = load(
        settings, 2031, _file(tmp_path, SCHEDULE), url="http://routing", transport=httpx.MockTransport(answer)
    )
    assert code == 0
    [request] = sent
    assert (request.method, request.url.path) == ("PUT", "/v1/calendar/years/2031")
    assert json.loads(request.content) == SCHEDULE
    principal = TokenVerifier(settings).verify(request.headers["Authorization"].removeprefix("Bearer "))
    assert (principal.role.value, principal.org) == ("admin", settings.org)
    out = capsys.readouterr().out
    assert "2031: loaded, 1 days off" in out and "deadline recomputed: C1" in out


def test_a_refusal_prints_each_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        problem = {
            "status": 422,
            "detail": "2031年节假日安排有误",
            "errors": [{"field": "workdays[0]", "message": "2031-02-03本是工作日，不能列为调休上班日"}],
        }
        return httpx.Response(422, json=problem, headers={"content-type": "application/problem+json"})

    code = load(
        Settings(),
        2031,
        _file(tmp_path, SCHEDULE),
        url="http://routing",
        transport=httpx.MockTransport(answer),
    )
    assert code == 1
    assert "workdays[0]: 2031-02-03本是工作日" in capsys.readouterr().err


def test_an_unreadable_file_is_refused_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert main(["calendar", "load", "2031", str(tmp_path / "bad.json"), "--url", "http://127.0.0.1:9"]) == 2
