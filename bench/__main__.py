"""`make bench`: the suite against this machine's own ceilings, side by side (see bench/README.md).

    python -m bench                  # the full run (what `make bench` does)
    python -m bench --quick          # a short run with small sizes, for developing the benchmark
    python -m bench --only relay,audit --var-dir /tmp/b --keep --profile

Starts the suite with `daiban run` on embedded servers in a fresh var folder, runs each
measurement, writes `bench/results/<date>.json` (quick runs: `<var>/results.json` unless
`--output`) and prints the markdown table (`python -m bench.report FILE` prints it again).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import acceptance, audit, catchup, history, pipeline, queries, relay
from bench.profile import Profiler
from bench.report import render
from bench.suite import Suite
from bench.workload import ITEMS
from daiban_common.db import ensure_database, with_database
from daiban_devtools.embedded import EmbeddedNats, free_port

RESULTS = Path(__file__).parent / "results"
PHASES = ("relay", "catchup", "acceptance", "audit", "history", "memory")


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short durations and small sizes")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated phases of {PHASES}")
    parser.add_argument("--var-dir", type=Path, default=None, help="where the suite keeps its data")
    parser.add_argument("--keep", action="store_true", help="keep the var folder afterwards")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    parser.add_argument("--cases", type=int, default=None, help="historical cases (default 1,000,000)")
    parser.add_argument("--levels", default=None, help="concurrency levels, e.g. 1,4,16,64")
    parser.add_argument("--duration", type=float, default=None, help="seconds measured per level")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--profile", action="store_true", help="py-spy profiles of the services")
    return parser.parse_args()


def sizes(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    plan = acceptance.Plan(
        levels=tuple(int(x) for x in args.levels.split(","))
        if args.levels
        else ((1, 8, 32) if quick else (1, 4, 16, 64)),
        warmup=1.0 if quick else 2.0,
        duration=args.duration or (3.0 if quick else 5.0),
        open_duration=5.0 if quick else 15.0,
        light_rate=4.0 if quick else 5.0,
        light_duration=3.0 if quick else 8.0,
        processes=args.processes,
        drain_timeout=120.0,
    )
    return {
        "plan": plan,
        "relay_events": 2_000 if quick else 20_000,
        "relay_lag_events": 500 if quick else 3_000,
        "catchup_events": 1_000 if quick else 10_000,
        "audit_burst": 1_000 if quick else 2_000,
        "verify_repeats": 1 if quick else 3,
        "cases": args.cases or (10_000 if quick else 1_000_000),
        "query_repeats": 20 if quick else 100,
    }


async def measure(suite: Suite, phases: set[str], size: dict[str, Any], profiler: Profiler) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    took: dict[str, float] = {}
    mark = time.monotonic()

    def lap(name: str) -> None:
        nonlocal mark
        took[name] = round(time.monotonic() - mark, 1)
        mark = time.monotonic()

    if "relay" in phases:
        print("relay: outbox -> JetStream against raw publish_async")
        await ensure_database(suite.server_url, "bench")
        # A nats-server of its own: the relay is measured on a stream of its own (`bench.>`), which
        # no identity of the suite's authenticated server may create or publish to.
        server = EmbeddedNats(suite.var_dir / "relay-nats", free_port())
        try:
            figures["relay"] = await relay.run(
                with_database(suite.server_url, "bench"),
                server.start(),
                events=size["relay_events"],
                lag_events=size["relay_lag_events"],
            )
        finally:
            server.stop()
        r = figures["relay"]
        print(f"  {r['relay_per_s']}/s against {r['raw_publish_per_s']}/s; lag p99 {r['lag_p99_ms']} ms")
        lap("relay")
    if "catchup" in phases:
        print(f"catch-up: {size['catchup_events']:,} events queued at a cut-off township reach the county")
        await ensure_database(suite.server_url, "bench")
        figures["catchup"] = await catchup.run(
            suite.var_dir / "catchup", with_database(suite.server_url, "bench"), events=size["catchup_events"]
        )
        c = figures["catchup"]
        print(f"  applied at the county {c['caught_up_seconds']} s after the line came back")
        lap("catchup")
    if "acceptance" in phases:
        print("acceptance and hop")
        figures["acceptance"] = await acceptance.run(suite, size["plan"], profiler)
        lap("acceptance")
    if "audit" in phases:
        print("audit")
        profiler.start("audit-verifying", "audit", 20)
        figures["audit"] = await audit.run(
            suite, burst=size["audit_burst"], verify_repeats=size["verify_repeats"], within=300
        )
        lap("audit")
    if "history" in phases:
        print(f"statistics at scale: loading {size['cases']:,} historical cases in bulk")
        figures["history"] = await history.load(suite, size["cases"])
        print(f"  {figures['history']}")
        lap("history load")
        figures["queries"] = await queries.run(suite, repeats=size["query_repeats"])
        lap("queries")
    if "memory" in phases:
        figures["memory_mb"] = {
            name: round(proc.memory_info().rss / 2**20, 1) for name, proc in suite.service_processes().items()
        }
        print(f"memory (RSS, MB): {figures['memory_mb']}")
    if profiler.on:
        figures["profiles"] = profiler.finish()
    figures["phase_seconds"] = took
    return figures


async def settle(suite: Suite) -> float:
    conn = await suite.connect()
    try:
        drained, waited = await pipeline.wait_drained(conn, suite.nats_url, 300, suite.credential("observer"))
    finally:
        await conn.close()
    print(f"  suite settled after its demo seed in {waited:.0f} s (drained: {drained})")
    return round(waited, 1)


def main() -> None:
    args = options()
    phases = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = phases - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown phases: {', '.join(sorted(unknown))}")
    size = sizes(args)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="daiban-bench-"))
    # Always a fresh suite: the history uses case numbers a previous run would already hold.
    shutil.rmtree(var_dir, ignore_errors=True)
    suite = Suite(var_dir / "suite")
    started = time.monotonic()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": args.quick,
        "settings": {k: (v.__dict__ if hasattr(v, "__dict__") else v) for k, v in size.items()},
    }
    try:
        print("starting the suite (daiban run)")
        result["suite_ready_seconds"] = round(suite.start(), 1)
        pids = {name: proc.pid for name, proc in suite.service_processes().items()}
        profiler = Profiler(var_dir / "profiles" if args.profile else None, pids)
        asyncio.run(suite.wait_for_replica(list(ITEMS)))
        # The demo seed's cases travel through the suite as events first; measure a quiet suite.
        result["seed_settled_seconds"] = asyncio.run(settle(suite))
        result["figures"] = asyncio.run(measure(suite, phases, size, profiler))
    finally:
        suite.stop()
        if not args.keep and args.var_dir is None:
            shutil.rmtree(var_dir, ignore_errors=True)
    result["elapsed_seconds"] = round(time.monotonic() - started, 1)
    if args.output is not None:
        path = args.output
    elif args.quick or phases != set(PHASES):
        path = (
            var_dir / "results.json"
            if args.keep or args.var_dir
            else Path(tempfile.gettempdir()) / ("daiban-bench-results.json")
        )
    else:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(render(result))
    print(f"\nwritten to {path} ({result['elapsed_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
