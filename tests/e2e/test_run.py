"""`daiban run` as a county's ops team starts it: embedded servers, four services, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from daiban_common.service import discover_services
from daiban_devtools.embedded import free_port

pytestmark = pytest.mark.e2e

SERVICES = tuple(discover_services())


def start_suite(var_dir: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    env.update(
        {
            "DAIBAN_VAR_DIR": str(var_dir),
            "DAIBAN_EMBEDDED_PG_PORT": str(ports["pg"]),
            "DAIBAN_EMBEDDED_NATS_PORT": str(ports["nats"]),
            **{f"DAIBAN_{name.upper()}_PORT": str(ports[name]) for name in SERVICES},
            "DAIBAN_CONSOLE_PORT": str(ports["console"]),
            # The demo history is tested on its own (tests/e2e/test_demo.py); start and stop are here.
            "DAIBAN_DEMO_HISTORY_CASES": "0",
        }
    )
    errors = (var_dir.parent / "run.stderr").open("a", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daiban_common.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    errors.close()
    banner: list[str] = []
    deadline = time.monotonic() + 180
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("More:"):
            return proc, banner
    proc.kill()
    logged = (var_dir.parent / "run.stderr").read_text(encoding="utf-8")[-4000:]
    raise AssertionError("daiban run did not come up:\n" + "".join(banner) + "\nstderr:\n" + logged)


def stop_suite(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def test_run_starts_four_ready_services_and_stops_cleanly_keeping_data(tmp_path: Path) -> None:
    ports = {name: free_port() for name in (*SERVICES, "pg", "nats", "console")}
    proc, banner = start_suite(tmp_path / "var", ports)
    try:
        text = "".join(banner)
        for name in SERVICES:
            assert f"http://127.0.0.1:{ports[name]}" in text
            ready = httpx.get(f"http://127.0.0.1:{ports[name]}/readyz", timeout=5)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "nats": "ok", "consumers": "ok"}
        assert "agent      370285101294  ey" in text  # ready-made dev tokens are printed
        tokens = (tmp_path / "var" / "dev-tokens.env").read_text(encoding="utf-8")
        assert "VILLAGE_AGENT_TOKEN=ey" in tokens and "COUNTY_CLERK_TOKEN=ey" in tokens
        # The console is served, knows the services and the demo people, and its origin may call them.
        console = f"http://127.0.0.1:{ports['console']}"
        assert f"console    {console}/" in text
        config = httpx.get(f"{console}/config.json", timeout=5).json()
        assert config["services"]["intake"] == f"http://127.0.0.1:{ports['intake']}"
        assert "village-agent" in {who["sub"] for who in config["identities"]}
        preflight = httpx.options(
            f"http://127.0.0.1:{ports['routing']}/v1/tasks",
            headers={"Origin": console, "Access-Control-Request-Method": "GET"},
            timeout=5,
        )
        assert preflight.headers.get("access-control-allow-origin") == console, preflight.headers
        database_url = f"postgresql://postgres@127.0.0.1:{ports['pg']}/daiban"
        asyncio.run(
            _execute(
                database_url,
                "CREATE TABLE public.e2e_marker (note text); "
                "INSERT INTO public.e2e_marker VALUES ('第一次运行')",
            )
        )
        # The services and nats-server; PostgreSQL detaches from its parent (pg_ctl), and leaves
        # its postmaster.pid while it runs.
        started_processes = descendants(proc.pid)
        assert len(started_processes) >= len(SERVICES) + 1
        postmaster = tmp_path / "var" / "postgres" / "data" / "postmaster.pid"
        assert postmaster.exists()
    finally:
        out = stop_suite(proc)
    assert "daiban stopped." in out
    # Everything it started is gone. (Not "its ports are free": on a busy machine another test's
    # server may be given one of them the moment it is released.)
    assert [pid for pid in started_processes if Path(f"/proc/{pid}").exists()] == []
    assert not postmaster.exists()

    started = time.monotonic()
    proc, _ = start_suite(tmp_path / "var", ports)
    try:
        restart_seconds = time.monotonic() - started
        print(f"second start ready in {restart_seconds:.1f}s")
        rows = asyncio.run(
            _fetch(
                f"postgresql://postgres@127.0.0.1:{ports['pg']}/daiban", "SELECT note FROM public.e2e_marker"
            )
        )
        assert rows == ["第一次运行"]
        for name in SERVICES:
            assert httpx.get(f"http://127.0.0.1:{ports[name]}/readyz", timeout=5).status_code == 200
    finally:
        stop_suite(proc)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name may hold spaces and parentheses: the fields after the last ")".
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _fetch(url: str, sql: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [row[0] for row in await conn.fetch(sql)]
    finally:
        await conn.close()
