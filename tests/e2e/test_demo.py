"""`daiban demo` against a suite that `daiban run` started with a demo history, as `make demo` does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import Suite, free_ports, ok

pytestmark = pytest.mark.e2e
# Enough history for every state (see daiban_devtools/demo/plan.py RECIPES), small enough to be quick.
HISTORY_CASES = 40


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daiban_common.cli", "demo", "--wait", "120"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_demo_fails_with_a_non_zero_status_when_the_suite_is_not_running(tmp_path: Path) -> None:
    env = Suite(var_dir=tmp_path / "var", ports=free_ports())
    done = run_demo(env.process_env())
    assert done.returncode == 1, done.stdout + done.stderr
    assert "演示失败" in done.stdout


def test_demo_walks_a_case_from_the_village_to_the_township_and_back(tmp_path: Path) -> None:
    suite = Suite.start(tmp_path / "var", env={"DAIBAN_DEMO_HISTORY_CASES": str(HISTORY_CASES)})
    try:
        assert re.search(r"demo history: \d+ cases", suite.banner), suite.banner
        done = run_demo(suite.process_env())
        out = done.stdout
        assert done.returncode == 0, out + done.stderr + suite.log_tail()
        for line in (
            "受理：",
            "流转：",
            "分派：",
            "审批：",
            "回传：",
            "送达：",
            "评价：",
            "公开进度",
            "审计：",
            "统计（演示后",
        ):
            assert line in out, out
        assert "A岗" in out and "校验通过" in out and "演示完成：12步全部成功" in out, out
        # What it printed is what the services hold: the case is evaluated, publicly visible by code.
        found = re.search(r"办件编号(\S+?)，查询码(\w+)", out)
        assert found is not None, out
        number, code = found.groups()
        progress = ok(
            suite.client("intake").get(f"/v1/public/progress/{number}", params={"query_code": code})
        )
        assert progress["status"] == "evaluated" and progress["accepting_org"] == "370285101294"
        # A second run is a second case: the demo can be shown again and again.
        again = run_demo(suite.process_env())
        assert again.returncode == 0, again.stdout + again.stderr
        assert re.search(r"办件编号(\S+?)，", again.stdout).group(1) != number  # type: ignore[union-attr]
    finally:
        suite.stop()
