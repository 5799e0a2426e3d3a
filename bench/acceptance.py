"""Acceptance (POST /v1/applications) against its ceiling, and the village -> county hop under load.

1. The load generator checks itself: `GET /ping` of the ceiling server (no database), with the
   most connections used later. Its rate must be far above every rate measured after it.
2. Ceiling and intake, closed loop at each concurrency level, the same requests (same bytes).
3. Open loop at half intake's best rate: latency counted from each request's scheduled time.
   The cases accepted then are followed to their assignment at the county: the hop.
4. The same hop at a light load (a few cases a second), for the latency of the path itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psutil

from bench import loadgen, pipeline
from bench.profile import Profiler
from bench.suite import COUNTY, Suite
from bench.workload import application_variants
from daiban_common.db import ensure_database, with_database
from daiban_devtools.embedded import free_port, wait_for_port


@dataclass(frozen=True)
class Plan:
    levels: tuple[int, ...] = (1, 4, 16, 64)
    warmup: float = 2.0
    duration: float = 8.0
    open_duration: float = 20.0
    light_rate: float = 5.0
    light_duration: float = 8.0
    processes: int = 1
    drain_timeout: float = 240.0


class Ceiling:
    """The bare FastAPI + asyncpg server, in its own process, on the suite's PostgreSQL."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        await ensure_database(self.suite.server_url, "bench")
        dsn = with_database(self.suite.server_url, "bench")
        self.proc = self._launch(dsn)
        await asyncio.to_thread(wait_for_port, self.port, 60.0, self.proc)

    def _launch(self, dsn: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.ceiling", "--port", str(self.port), "--dsn", dsn],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def _spec(port: int, requests: list[dict[str, Any]], plan: Plan, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "requests": requests,
        "warmup": plan.warmup,
        "duration": plan.duration,
        "processes": plan.processes,
        "idempotency_prefix": f"bench-{uuid.uuid4().hex[:12]}",
        **extra,
    }


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.to_thread(loadgen.run, spec)


def _level(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("connections", "ok_per_s", "p50_ms", "p99_ms", "statuses", "loadgen_cpu_share", "sample_error")
    return {key: result[key] for key in keep}


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    found = {}
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            found[proc.pid] = times.user + times.system
    return found


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent by the processes alive at both ends (a backend that exited took its own)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


async def _closed_levels(
    port: int, requests: list[dict[str, Any]], plan: Plan, server: psutil.Process, suite: Suite
) -> list[dict[str, Any]]:
    """Closed loop at each level; with the CPU the server process and PostgreSQL spent per answer
    (figures that, unlike rates, do not depend on what else the machine is doing)."""
    levels = []
    for connections in plan.levels:
        postgres = suite.postgres_processes()
        before = _cpu_seconds([server]), _cpu_seconds(postgres)
        result = await _load(_spec(port, requests, plan, mode="closed", connections=connections))
        after = _cpu_seconds([server]), _cpu_seconds(postgres)
        answered = max(1, result["completed_total"])
        level = _level(result) | {
            "server_cpu_ms_per_request": round(_spent(before[0], after[0]) * 1000 / answered, 2),
            "postgres_cpu_ms_per_request": round(_spent(before[1], after[1]) * 1000 / answered, 2),
        }
        levels.append(level)
        print(
            f"    {connections:>3} connections: {result['ok_per_s']:>8.1f}/s  p99 {result['p99_ms']} ms  "
            f"CPU/request: server {level['server_cpu_ms_per_request']} ms, "
            f"PostgreSQL {level['postgres_cpu_ms_per_request']} ms"
        )
    return levels


async def run(suite: Suite, plan: Plan, profiler: Profiler) -> dict[str, Any]:
    requests = await application_variants(suite)
    ceiling = Ceiling(suite)
    await ceiling.start()
    try:
        most = max(plan.levels)
        print("  load generator self-check (GET /ping, no database)")
        ping = await _load(
            _spec(
                ceiling.port,
                [{"method": "GET", "path": "/ping"}],
                plan,
                mode="closed",
                connections=most,
                idempotency_prefix=None,
            )
        )
        print(f"    {ping['ok_per_s']}/s, load generator CPU {ping['loadgen_cpu_share']:.0%} of a core")
        print("  ceiling: bare FastAPI endpoint, one asyncpg INSERT")
        assert ceiling.proc is not None
        ceiling_levels = await _closed_levels(
            ceiling.port, requests, plan, psutil.Process(ceiling.proc.pid), suite
        )
    finally:
        ceiling.stop()
    print("  intake: POST /v1/applications")
    profiler.start("intake-accepting", "intake", len(plan.levels) * (plan.warmup + plan.duration + 1))
    intake_levels = await _closed_levels(
        suite.ports["intake"], requests, plan, suite.service_processes()["intake"], suite
    )
    best_ceiling = max(level["ok_per_s"] for level in ceiling_levels)
    best_intake = max(level["ok_per_s"] for level in intake_levels)

    conn = await suite.connect()
    try:
        catch_up_from = datetime.now(UTC)
        for service in ("routing", "audit", "intake"):
            profiler.start(f"{service}-catching-up", service, min(30.0, plan.drain_timeout))
        drained, waited = await pipeline.wait_drained(
            conn, suite.nats_url, plan.drain_timeout, suite.credential("observer")
        )
        catch_up = await _catch_up(conn, catch_up_from, waited) | {"drained": drained}
        print(
            f"  suite caught up with {catch_up['cases']} cases in {waited:.0f} s (drained: {drained}); "
            f"{catch_up['assigned_per_s']} cases/s assigned at the county meanwhile"
        )
        half = max(1.0, round(best_intake / 2, 1))
        print(f"  intake, open loop at half the best rate: {half}/s")
        under_load = await _hop_run(suite, conn, requests, plan, rate=half, duration=plan.open_duration)
        print(
            f"    p99 {under_load['acceptance']['p99_ms']} ms; hop p99 {under_load['hop'].get('p99_ms')} ms"
        )
        light_drained, _ = await pipeline.wait_drained(
            conn, suite.nats_url, plan.drain_timeout, suite.credential("observer")
        )
        print(f"  hop at light load ({plan.light_rate}/s)")
        light = await _hop_run(
            suite, conn, requests, plan, rate=plan.light_rate, duration=plan.light_duration
        )
        print(f"    hop p50 {light['hop'].get('p50_ms')} ms, p99 {light['hop'].get('p99_ms')} ms")
    finally:
        await conn.close()
    return {
        "loadgen_check": {
            "ping_per_s": ping["ok_per_s"],
            "ping_connections": most,
            "loadgen_cpu_share_ping": ping["loadgen_cpu_share"],
            "headroom_over_best_ceiling": round(ping["ok_per_s"] / best_ceiling, 1) if best_ceiling else None,
        },
        "ceiling": {"levels": ceiling_levels, "best_per_s": best_ceiling},
        "intake": {"levels": intake_levels, "best_per_s": best_intake},
        "ratio": round(best_intake / best_ceiling, 3) if best_ceiling else None,
        "catch_up": catch_up,
        "half_rate": under_load["acceptance"],
        "hop_under_load": under_load["hop"],
        "hop_light": light["hop"] | {"started_drained": light_drained},
    }


async def _catch_up(conn: Any, since: datetime, seconds: float) -> dict[str, Any]:
    """How fast routing moved the backlog behind the saturation runs: cases assigned per second."""
    assigned, last = await conn.fetchrow(
        f"SELECT count(*), max(created_at) FROM routing.tasks WHERE org = '{COUNTY}' AND lead "
        "AND created_at >= $1",
        since,
    )
    busy = (last - since).total_seconds() if last is not None else 0.0
    return {
        "cases": await conn.fetchval("SELECT count(*) FROM intake.cases"),
        "seconds": round(seconds, 1),
        "assigned_while_catching_up": assigned,
        # Over the time routing took for them (audit may still be logging after that).
        "assigned_per_s": round(assigned / busy, 1) if busy > 0 else None,
    }


async def _hop_run(
    suite: Suite, conn: Any, requests: list[dict[str, Any]], plan: Plan, *, rate: float, duration: float
) -> dict[str, Any]:
    connections = max(8, min(64, int(rate / 10) + 8))
    spec = _spec(
        suite.ports["intake"],
        requests,
        plan,
        mode="open",
        rate=rate,
        connections=connections,
        warmup=0.0,
        duration=duration,
    )
    window_start = datetime.now(UTC)
    result = await _load(spec)
    window_end = datetime.now(UTC)
    acceptance = _level(result) | {"rate": rate, "per_s": result["per_s"]}
    hop = await hops(conn, window_start, window_end, within=plan.drain_timeout)
    return {"acceptance": acceptance, "hop": hop}


HOP_SQL = f"""
SELECT extract(epoch FROM t.created_at - c.accepted_at) * 1000 AS total,
       extract(epoch FROM h1.sent_at - c.accepted_at) * 1000 AS picked_up,
       extract(epoch FROM h1.received_at - h1.sent_at) * 1000 AS to_township,
       extract(epoch FROM h2.received_at - h2.sent_at) * 1000 AS to_county,
       extract(epoch FROM t.created_at - h2.received_at) * 1000 AS assigned
FROM routing.cases c
JOIN routing.tasks t ON t.case_number = c.case_number AND t.lead
LEFT JOIN routing.hops h1 ON h1.case_number = c.case_number AND h1.direction = 'up' AND h1.hop = 1
LEFT JOIN routing.hops h2 ON h2.case_number = c.case_number AND h2.direction = 'up' AND h2.hop = 2
WHERE c.accepted_at >= $1 AND c.accepted_at < $2 AND t.org = '{COUNTY}'
"""


async def hops(conn: Any, since: datetime, until: datetime, *, within: float) -> dict[str, Any]:
    """Acceptance at the village -> assignment at the county, for the cases accepted in [since, until)."""
    accepted = await conn.fetchval(
        "SELECT count(*) FROM intake.cases WHERE accepted_at >= $1 AND accepted_at < $2", since, until
    )
    deadline = time.monotonic() + within
    rows: list[Any] = []
    while time.monotonic() < deadline:
        rows = await conn.fetch(HOP_SQL, since, until)
        if len(rows) >= accepted:
            break
        await asyncio.sleep(0.5)
    result: dict[str, Any] = {"cases": accepted, "assigned": len(rows)}
    if not rows:
        return result
    for column in ("total", "picked_up", "to_township", "to_county", "assigned"):
        values = sorted(float(r[column]) for r in rows if r[column] is not None)
        if column == "total":
            result["p50_ms"] = round(_percentile(values, 0.5), 1)
            result["p99_ms"] = round(_percentile(values, 0.99), 1)
        else:
            result.setdefault("stages_p50_ms", {})[column] = round(_percentile(values, 0.5), 1)
    return result


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
