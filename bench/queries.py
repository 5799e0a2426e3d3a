"""Supervision and statistics queries over the loaded history: p50/p99 of sequential requests.

One request at a time, as a supervisor's dashboard or a report run asks; a few warm-up requests
first, so the figures are of a running service with its caches as they would be.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx

from bench.suite import COUNTY, Suite
from daiban_common.auth import Role
from daiban_common.calendar import today_in_shanghai


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _timed(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], token: str, repeats: int, warmup: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    body: Any = None
    for n in range(warmup + repeats):
        started = time.perf_counter()
        response = await client.get(path, params=params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:500]}")
        body = response.json()
        if n >= warmup:
            times.append(elapsed)
    times.sort()
    return {
        "path": path,
        "params": params,
        "requests": repeats,
        "p50_ms": round(_percentile(times, 0.5), 1),
        "p99_ms": round(_percentile(times, 0.99), 1),
        "max_ms": round(times[-1], 1),
        "body": body,
    }


async def run(suite: Suite, *, repeats: int, warmup: int = 5) -> dict[str, Any]:
    today = today_in_shanghai()
    supervisor = suite.token(Role.supervisor, COUNTY, "bench-supervisor", name="县电子监察")
    found: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=120) as client:
        routing, audit = suite.url("routing"), suite.url("audit")
        found["supervision_flags"] = await _timed(
            client, f"{routing}/v1/supervision/flags", {"limit": 20}, supervisor, repeats, warmup
        )
        found["supervision_red"] = await _timed(
            client,
            f"{routing}/v1/supervision/flags",
            {"limit": 20, "level": "red"},
            supervisor,
            repeats,
            warmup,
        )
        month = {"from": str(today - timedelta(days=30)), "to": str(today - timedelta(days=1))}
        found["stats_month_by_township"] = await _timed(
            client, f"{audit}/v1/stats", {**month, "group_by": "org"}, supervisor, repeats, warmup
        )
        year = {"from": str(today - timedelta(days=365)), "to": str(today - timedelta(days=1))}
        found["stats_year_by_department"] = await _timed(
            client, f"{audit}/v1/stats", {**year, "group_by": "department"}, supervisor, repeats, warmup
        )
    for name, figures in found.items():
        body = figures.pop("body")
        if name.startswith("stats"):
            figures["received"] = body["totals"]["received"]
            figures["groups"] = len(body["groups"])
        else:
            figures["items"] = len(body["items"])
        print(f"    {name}: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    return found
