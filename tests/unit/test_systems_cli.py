"""`daiban systems`: each subcommand is one call of intake's registry API as an admin."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pytest

from daiban_common.auth import Role, TokenVerifier
from daiban_common.settings import Settings
from daiban_devtools import systems


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    systems.arguments(parser)
    return parser.parse_args(list(argv))


def test_register_posts_the_system_and_prints_the_token_once(capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={**json.loads(request.content), "token": "dbs_x"})

    args = _args(
        "register", "jiangshan-hall", "--township", "370285101000", "--name", "大厅系统", "--url", "http://i"
    )
    assert systems.run(args, transport=httpx.MockTransport(answer)) == 0
    [request] = sent
    assert (request.method, request.url.path) == ("POST", "/v1/systems")
    assert json.loads(request.content) == {
        "system": "jiangshan-hall",
        "township": "370285101000",
        "name": "大厅系统",
    }
    principal = TokenVerifier(Settings()).verify(request.headers["authorization"].removeprefix("Bearer "))
    assert principal.role is Role.admin
    out = capsys.readouterr()
    assert '"token": "dbs_x"' in out.out and "只显示这一次" in out.err


@pytest.mark.parametrize(
    ("argv", "method", "path"),
    [
        (("list",), "GET", "/v1/systems"),
        (("http-token", "jiangshan-hall"), "POST", "/v1/systems/jiangshan-hall/token"),
        (("disable", "jiangshan-hall"), "DELETE", "/v1/systems/jiangshan-hall"),
    ],
)
def test_the_other_subcommands(argv: tuple[str, ...], method: str, path: str) -> None:
    assert systems.request_of(_args(*argv))[:2] == (method, path)


def test_a_refusal_names_each_field(capsys: pytest.CaptureFixture[str]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        problem = {"detail": "提交的数据有误", "errors": [{"field": "township", "message": "不是乡镇"}]}
        return httpx.Response(422, json=problem)

    args = _args(
        "register", "x-hall", "--township", "370285101201", "--name", "x", "--url", "http://i", "--token", "t"
    )
    assert systems.run(args, transport=httpx.MockTransport(answer)) == 1
    assert "township: 不是乡镇" in capsys.readouterr().err


def test_a_stale_pid_file_is_not_signalled(tmp_path: Path) -> None:
    """A pid file whose number now belongs to another process (here: this test's own) must not
    get SIGHUP, which would end that process."""
    import os

    from daiban_devtools.nats_systems import reload_server

    pid_file = tmp_path / "nats.pid"
    pid_file.write_text(str(os.getpid()))
    assert reload_server(pid_file) is False
    pid_file.write_text("not a pid")
    assert reload_server(pid_file) is False
