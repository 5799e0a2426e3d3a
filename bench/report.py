"""The markdown table of a results file, each figure beside its ceiling and the goal it aims at.

    python -m bench.report bench/results/2026-12-01.json            # print the table
    python -m bench.report bench/results/2026-12-01.json --readme   # also put it in bench/README.md

`--readme` replaces what lies between the `<!-- results:start -->` and `<!-- results:end -->`
markers of bench/README.md with the date, the machine and the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

README = Path(__file__).parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

Row = tuple[str, str, str, str, str, str]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}" if x >= 0.01 else f"{x:.2%}"


def _n(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _at_least(value: float | None, goal: float) -> str:
    if value is None:
        return "-"
    return "met" if value >= goal else f"**missed** ({value / goal:.0%} of goal)"


def _under(value: float | None, goal: float) -> str:
    if value is None:
        return "-"
    return "met" if value < goal else f"**missed** ({value / goal:.1f}x the limit)"


def _relay(r: dict[str, Any]) -> list[Row]:
    return [
        (
            "relay outbox -> JetStream",
            f"{_n(r['relay_per_s'])} events/s",
            f"raw publish_async {_n(r['raw_publish_per_s'])}/s",
            _pct(r["relay_ratio"]),
            ">= 50%",
            _at_least(r["relay_ratio"], 0.5),
        ),
        (
            f"relay lag, commit -> ack, at {r['lag_load_per_s']:.0f} commits/s",
            f"p50 {r['lag_p50_ms']} ms, p99 {r['lag_p99_ms']} ms",
            "-",
            "-",
            "p99 < 200 ms",
            _under(r["lag_p99_ms"], 200),
        ),
    ]


def _catchup(c: dict[str, Any]) -> list[Row]:
    return [
        (
            f"catch-up: {c['events']:,} events queued at a cut-off township, applied at the county",
            f"{c['caught_up_seconds']} s after the line came back ({_n(c['applied_per_second'])}/s; "
            f"all in the county's stream after {c['crossed_seconds']} s)"
            + ("" if c["applied_once"] else "; **not applied exactly once**"),
            "-",
            "-",
            "< 10 s",
            _under(c["caught_up_seconds"], 10.0),
        )
    ]


def _cpu(level: dict[str, Any]) -> str:
    """CPU per request of the server process and of PostgreSQL (all backends), when measured."""
    if "server_cpu_ms_per_request" not in level:
        return ""
    return (
        f"; CPU/request: server {level['server_cpu_ms_per_request']} ms, "
        f"PostgreSQL {level['postgres_cpu_ms_per_request']} ms"
    )


def _acceptance(a: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    intake, ceiling = a["intake"], a["ceiling"]
    best = intake["best_per_s"]
    met = _at_least(a["ratio"], 0.25)
    if met == "met":
        met = _at_least(best, 700)
    rows.append(
        (
            "**acceptance**, best rate (POST /v1/applications, 201s)",
            f"{_n(best)} cases/s",
            f"bare FastAPI + asyncpg INSERT {_n(ceiling['best_per_s'])}/s",
            _pct(a["ratio"]),
            ">= 25% and >= 700/s",
            met,
        )
    )
    rows += _acceptance_cpu(intake["levels"], best)
    for mine, bare in zip(intake["levels"], ceiling["levels"], strict=False):
        rows.append(
            (
                f"acceptance at {mine['connections']} connections",
                f"{_n(mine['ok_per_s'])}/s, p50 {mine['p50_ms']} ms, p99 {mine['p99_ms']} ms{_cpu(mine)}",
                f"{_n(bare['ok_per_s'])}/s, p99 {bare['p99_ms']} ms{_cpu(bare)}",
                _pct(mine["ok_per_s"] / bare["ok_per_s"]) if bare["ok_per_s"] else "-",
                "-",
                "-",
            )
        )
    half = a["half_rate"]
    rows.append(
        (
            f"acceptance latency at half the best rate ({half['rate']}/s, open loop)",
            f"p50 {half['p50_ms']} ms, p99 {half['p99_ms']} ms ({_n(half['ok_per_s'])}/s accepted)",
            "-",
            "-",
            "p99 < 50 ms",
            _under(half["p99_ms"], 50),
        )
    )
    check = a["loadgen_check"]
    rows.append(
        (
            "load generator self-check (GET /ping, no database)",
            f"{_n(check['ping_per_s'])} req/s at {check['ping_connections']} connections, "
            f"{check['loadgen_cpu_share_ping']:.0%} of a core",
            f"{check['headroom_over_best_ceiling']}x the best ceiling rate",
            "-",
            "not the bottleneck",
            "met" if (check["headroom_over_best_ceiling"] or 0) >= 2 else "**check**",
        )
    )
    for key, label in (("hop_under_load", f"at {half['rate']}/s"), ("hop_light", "at light load")):
        hop = a[key]
        rows.append(
            (
                f"**hop** village -> county assignment, {label}",
                f"p50 {hop.get('p50_ms')} ms, p99 {hop.get('p99_ms')} ms "
                f"({hop['assigned']}/{hop['cases']} cases)",
                "-",
                "-",
                "p99 < 100 ms" if key == "hop_under_load" else "-",
                _under(hop.get("p99_ms"), 100) if key == "hop_under_load" else "-",
            )
        )
    catch = a["catch_up"]
    rows.append(
        (
            "**sustained end to end**: the suite catching up after the saturation runs",
            f"{_n(catch['assigned_per_s'])} cases/s assigned at the county; drained in {catch['seconds']} s"
            + ("" if catch["drained"] else " (**not drained**)"),
            "-",
            "-",
            ">= 200 cases/s",
            _at_least(catch["assigned_per_s"], 200),
        )
    )
    return rows


def _acceptance_cpu(levels: list[dict[str, Any]], best: float) -> list[Row]:
    """CPU per accepted case at the level that gave the best rate (issue 17's goals): intake's
    process (its relay and consumers included) and every PostgreSQL backend."""
    level = next((lv for lv in levels if lv["ok_per_s"] == best and "server_cpu_ms_per_request" in lv), None)
    if level is None:
        return []
    server, postgres = level["server_cpu_ms_per_request"], level["postgres_cpu_ms_per_request"]
    return [
        (
            f"acceptance CPU per case at the best rate ({level['connections']} connections)",
            f"intake {server} ms, PostgreSQL {postgres} ms",
            "-",
            "-",
            "< 1.5 ms and < 0.5 ms",
            "met"
            if server < 1.5 and postgres < 0.5
            else f"**missed** ({server / 1.5:.1f}x and {postgres / 0.5:.1f}x the limits)",
        )
    ]


def _audit(a: dict[str, Any]) -> list[Row]:
    sha = a["ceiling"]["sha256_per_s"]
    return [
        (
            "**audit** entries appended",
            f"{_n(a['append']['per_s'])} entries/s",
            f"sha256 of the same canonical bytes {_n(sha)}/s",
            _pct(a["append_ratio"]),
            "-",
            "-",
        ),
        (
            f"audit chain verification (GET /v1/audit/verify, {_n(a['verify']['entries'])} entries)",
            f"{_n(a['verify']['per_s'])} entries/s",
            f"sha256 {_n(sha)}/s (canonicalise + hash in-process "
            f"{_n(a['ceiling']['canonicalise_and_hash_per_s'])}/s)",
            _pct(a["verify_ratio"]),
            ">= 100,000/s",
            _at_least(a["verify"]["per_s"], 100_000),
        ),
    ]


def _queries(q: dict[str, Any], h: dict[str, Any]) -> list[Row]:
    labels = {
        "supervision_flags": "supervision flags, first page",
        "supervision_red": "supervision red flags, first page",
        "stats_month_by_township": "statistics, county by township, 30 days",
        "stats_year_by_department": "statistics, county by department, 365 days",
    }
    return [
        (
            f"**{labels.get(name, name)}** ({_n(h['cases'])} cases loaded)",
            f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms",
            "-",
            "-",
            "p99 < 100 ms",
            _under(f["p99_ms"], 100),
        )
        for name, f in q.items()
    ]


def _memory(m: dict[str, float]) -> list[Row]:
    return [
        (f"**memory** {name} (RSS after the load)", f"{mb} MB", "-", "-", "< 150 MB", _under(mb, 150))
        for name, mb in sorted(m.items())
    ]


def rows(result: dict[str, Any]) -> list[Row]:
    f = result.get("figures", {})
    found: list[Row] = []
    if "acceptance" in f:
        found += _acceptance(f["acceptance"])
    if "relay" in f:
        found += _relay(f["relay"])
    if "catchup" in f:
        found += _catchup(f["catchup"])
    if "audit" in f:
        found += _audit(f["audit"])
    if "queries" in f:
        found += _queries(f["queries"], f["history"])
    if "memory_mb" in f:
        found += _memory(f["memory_mb"])
    return found


def render(result: dict[str, Any]) -> str:
    lines = [
        "| measurement | figure | ceiling (same run) | ratio | goal | goal met |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
    return "\n".join(lines)


def machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    kind = "quick run" if result.get("quick") else "full run"
    return (
        f"{result['date'][:10]}, {kind}: {m['cpus']} CPUs {m['processor']}, {m.get('memory_gib', '?')} GiB, "
        f"{m['platform']}, Python {m['python']}; load average at start {m.get('load_average_at_start')}; "
        f"took {result.get('elapsed_seconds', '?')} s"
    )


def update_readme(result: dict[str, Any], source: Path) -> None:
    text = README.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    caution = (
        "\n\nA quick run (short durations, small history): not the figures to size hardware from."
        if result.get("quick")
        else ""
    )
    block = f"{START}\n{machine_line(result)} (`{source.name}`).{caution}\n\n{render(result)}\n{END}"
    README.write_text(head + block + tail)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", type=Path)
    parser.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args()
    result = json.loads(args.results.read_text())
    print(machine_line(result))
    print()
    print(render(result))
    if args.readme:
        update_readme(result, args.results)


if __name__ == "__main__":
    main()
