"""`daiban dead-letters`: what it asks the service's API, and what it prints and exits with."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from daiban_common.deadletters import cli
from daiban_common.settings import Settings

ITEM = {
    "id": 7,
    "status_label": "待处理",
    "parked_at": "2026-12-06T09:30:00+08:00",
    "consumer": "n-audit-log",
    "type": "daiban.case.supplemented.v1",
    "org": "370285101000",
    "event_id": "e1",
    "reason": "data of daiban.case.supplemented.v1 is invalid\nmore",
}


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.arguments(parser)
    return parser.parse_args(list(argv))


def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, org="370285000000", jwt_secret="s" * 40)


def serve(answers: list[tuple[int, Any]], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body = answers.pop(0)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def test_list_follows_every_page_with_the_filters_and_a_minted_supervisor_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[httpx.Request] = []
    pages = [
        (200, {"items": [ITEM], "next_cursor": "c2"}),
        (200, {"items": [ITEM | {"id": 6}], "next_cursor": None}),
    ]
    args = parse("list", "--service", "audit", "--status", "open", "--from", "2026-12-01", "--all")
    assert cli.run(args, settings(tmp_path), serve(pages, seen)) == 0
    assert [r.url.params.get("cursor") for r in seen] == [None, "c2"]
    assert seen[0].url.path == "/v1/dead-letters"
    assert dict(seen[0].url.params) == {"status": "open", "from": "2026-12-01", "limit": "20"}
    assert seen[0].headers["Authorization"].startswith("Bearer ")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["7", "6"]
    assert lines[0].endswith("is invalid")


def test_replay_sends_the_corrected_data_with_an_idempotency_key(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"case_number": "X"}), encoding="utf-8")
    args = parse("replay", "7", "--service", "intake", "--data", str(data), "--token", "t")
    answer = (200, {"outcome": "applied", "outcome_label": "已生效", "dead_letter": ITEM})
    assert cli.run(args, settings(tmp_path), serve([answer], seen)) == 0
    assert seen[0].method == "POST" and seen[0].url.path == "/v1/dead-letters/7/replay"
    assert json.loads(seen[0].content) == {"data": {"case_number": "X"}}
    assert seen[0].headers["Idempotency-Key"] and seen[0].headers["Authorization"] == "Bearer t"


def test_a_refusal_prints_the_detail_and_each_field_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = {
        "status": 422,
        "detail": "提交的数据有误",
        "errors": [{"field": "reason", "message": "丢弃理由请用中文说明"}],
    }
    args = parse("discard", "7", "--service", "routing", "--reason", "oops")
    assert cli.run(args, settings(tmp_path), serve([(422, problem)], [])) == 1
    err = capsys.readouterr().err
    assert "422 提交的数据有误" in err and "reason: 丢弃理由请用中文说明" in err


def test_an_unreachable_service_exits_2(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    args = parse("show", "7", "--service", "audit")
    assert cli.run(args, settings(tmp_path), httpx.MockTransport(down)) == 2
