"""Acceptance in one process, counted rather than timed: statements, Python calls and CPU per request.

Rates on the shared two cores swing by a factor of two from run to run; these figures barely move.
Intake runs alone in this process (its relay and consumers included) on embedded PostgreSQL and
nats-server, as intake's integration tests run it, and is sent N sequential acceptances through
an in-memory client (whose own CPU the process figure includes). Reported per accepted case:

- statements: what SQLAlchemy sent (each execute, plus BEGIN/COMMIT/ROLLBACK): round trips;
- calls: Python function calls under cProfile over the N requests (deterministic);
- cpu_ms: this process's CPU time without the profiler; pg_cpu_ms: every PostgreSQL process's.

    .venv/bin/python -m bench.probe --requests 300 --rounds 3
    .venv/bin/python -m bench.probe --routing 500     # routing catching up with 500 queued cases
    .venv/bin/python -m bench.probe --progress 500    # intake following routing's events for 500
    .venv/bin/python -m bench.probe --audit 2000      # audit's log and statistics catching up
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from daiban_common.bus import ensure_stream
from daiban_common.consumer import EventConsumer
from daiban_common.db import asyncpg_dsn
from daiban_common.relay import OutboxRelay
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_common.uow import Prepared, UnitOfWork
from tests.integration.intake.helpers import application, bearer, item, publish_item
from tests.servers import RunningService, Servers, create_template, new_network, running, start_servers


def _postmaster(servers: Servers) -> int | None:
    if servers.pg is None:
        return None
    return int((servers.pg.pgdata / "postmaster.pid").read_text().split()[0])


def _postgres(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _package(file: str) -> str:
    parts = Path(file).parts
    for anchor in ("site-packages", "daiban_common", "daiban_intake", "daiban_contracts"):
        if anchor in parts:
            i = parts.index(anchor)
            return parts[i] if anchor != "site-packages" else parts[i + 1] if i + 1 < len(parts) else file
    if file == "~":
        return "builtins"
    return "stdlib " + Path(file).stem


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


async def _concurrently(accept: Callable[[], Awaitable[None]], requests: int, concurrency: int) -> None:
    async def worker(n: int) -> None:
        for _ in range(n):
            await accept()

    share, extra = divmod(requests, concurrency)
    await asyncio.gather(*(worker(share + (1 if i < extra else 0)) for i in range(concurrency)))


async def _sessions(url: str) -> int:
    """Connections PostgreSQL has accepted to the node's database so far (this one included)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(
            await conn.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        )
    finally:
        await conn.close()


@asynccontextmanager
async def _node(org: str) -> AsyncIterator[tuple[Servers, Settings]]:
    """Embedded servers of the probe's own and a migrated node of `org` on them."""
    base = Path(tempfile.mkdtemp(prefix="daiban-probe-"))
    servers = start_servers(base)
    try:
        await create_template(servers)
        yield servers, await new_network(servers, base).node(org)
    finally:
        servers.stop()


async def _county_stream(runtime: ServiceRuntime, settings: Settings) -> None:
    """The stream of the township node's county on the probe's server, as a deployed county node
    has it: without it the county's lane refuses every acceptance's copy, and the relay retries
    that growing backlog each second, calls that grow with wall time rather than with requests."""
    county = runtime.topology.parent_node
    assert county is not None and runtime.js is not None, "a township node, its bus connected"
    township_suffix = f"_{settings.org[:9]}"
    assert settings.stream_name.endswith(township_suffix)
    await ensure_stream(
        runtime.js,
        settings.stream_name.removesuffix(township_suffix),
        runtime.subjects.node_stream(county, [settings.org]),
    )


class _Statements:
    """Counts what an engine sends: each execute, plus BEGIN/COMMIT/ROLLBACK (the round trips),
    and what units of work run on the driver beneath it (UnitOfWork.fetchrow, ...: a few Python
    calls each in the profile, for the counting wrapper)."""

    def __init__(self, engine: AsyncEngine, keep: int = 0) -> None:
        self.count = 0
        self.seen: list[str] = []
        self._keep = keep
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._sent)
        for name in ("begin", "commit", "rollback"):
            event.listen(sync_engine, name, self._sent)
        for name in ("fetch", "fetchrow", "fetchval", "execute", "executemany"):
            setattr(UnitOfWork, name, self._counting(getattr(UnitOfWork, name)))
        # Deferred writes combined into one statement (UnitOfWork.defer).
        run = UnitOfWork.execute_sql

        async def counted_sql(uow: UnitOfWork, sql: str, args: Sequence[Any]) -> None:
            self._sent(None, None, sql)
            await run(uow, sql, args)

        UnitOfWork.execute_sql = counted_sql  # type: ignore[method-assign,assignment]
        # The relay's window runs on the driver too: BEGIN, its SELECT, the UPDATE of what it
        # published (when it published any), COMMIT.
        window = OutboxRelay._publish_window

        async def counted_window(relay: OutboxRelay, conn: Any, statement: Prepared, held: bool) -> int:
            published = await window(relay, conn, statement, held)
            self.count += 3 + (published > 0)
            return published

        OutboxRelay._publish_window = counted_window  # type: ignore[method-assign,assignment]

    def _counting(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(uow: UnitOfWork, statement: Prepared, params: Any) -> Any:
            self._sent(None, None, statement.sql)
            return await method(uow, statement, params)

        return counted

    def _sent(self, *args: Any) -> None:
        self.count += 1
        if len(self.seen) < self._keep:
            self.seen.append(str(args[2])[:100].replace("\n", " ") if len(args) > 2 else "txn")

    def reset(self) -> None:
        self.count = 0
        self.seen.clear()


async def probe(requests: int, rounds: int, show: bool = False, concurrency: int = 1) -> dict[str, Any]:
    async with _node("370285101000") as (servers, settings):
        pg_pid = _postmaster(servers)
        async with running("intake", settings) as service:
            await _county_stream(service.runtime, settings)
            await publish_item(settings, service.runtime, item())
            statements = _Statements(service.runtime.engine, keep=400 if show else 0)
            headers = bearer(settings)
            body = application()

            async def accept() -> None:
                response = await service.client.post(
                    "/v1/applications", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
                )
                assert response.status_code == 201, response.text

            for _ in range(50):  # warm-up: caches, prepared statements, the pool
                await accept()
            await asyncio.sleep(1.0)  # the relay publishes the warm-up's events
            results = []
            pg = _postgres(pg_pid)
            for _ in range(rounds):
                statements.reset()
                cpu0, pg0, wall0 = time.process_time(), _cpu(pg), time.perf_counter()
                sessions0 = await _sessions(settings.database_url)
                await _concurrently(accept, requests, concurrency)
                await asyncio.sleep(0.5)  # let the relay publish (its CPU is intake's too)
                sessions = await _sessions(settings.database_url) - sessions0 - 1
                cpu1, pg1, wall1 = time.process_time(), _cpu(pg), time.perf_counter()
                per_request_statements = statements.count / requests
                profiler = cProfile.Profile()
                profiler.enable()
                await _concurrently(accept, requests, concurrency)
                profiler.disable()
                stats = pstats.Stats(profiler)
                calls = stats.total_calls  # type: ignore[attr-defined]
                if show:
                    by_package: dict[str, int] = {}
                    for (file, _, _), (_, ncalls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
                        key = _package(file)
                        by_package[key] = by_package.get(key, 0) + ncalls
                    top = sorted(by_package.items(), key=lambda kv: -kv[1])[:25]
                    print({k: round(v / requests) for k, v in top})
                    if os.environ.get("PROBE_DUMP"):
                        stats.dump_stats(os.environ["PROBE_DUMP"])
                results.append(
                    {
                        "statements": round(per_request_statements, 2),
                        "calls": round(calls / requests),
                        "cpu_ms": round((cpu1 - cpu0) * 1000 / requests, 3),
                        "pg_cpu_ms": round((pg1 - pg0) * 1000 / requests, 3),
                        "wall_ms": round((wall1 - wall0 - 0.5) * 1000 / requests, 3),
                        "connections_opened": sessions,
                    }
                )
            summary = {
                key: statistics.median(r[key] for r in results)
                for key in ("statements", "calls", "cpu_ms", "pg_cpu_ms", "wall_ms", "connections_opened")
            }
            if show:
                print("\n".join(statements.seen[-60:]))
            return {"requests": requests, "rounds": results, "median": summary}


@asynccontextmanager
async def _accepted_at_a_village(
    cases: int,
) -> AsyncIterator[tuple[Servers, Settings, RunningService, RunningService]]:
    """A county node with intake and routing (seeded), routing's `cases` consumer and intake's
    `progress` consumer stopped, and `cases` acceptances of a township item at a village; the
    caller starts the one it measures."""
    from daiban_routing.service import SERVICE as ROUTING

    async with (
        _node("370285000000") as (servers, settings),
        running("intake", settings) as intake,
        running("routing", settings) as routing,
    ):
        assert ROUTING.seed is not None
        await ROUTING.seed(routing.runtime)
        await publish_item(settings, intake.runtime, item())
        for consumer in (*routing.runtime.consumers, *intake.runtime.consumers):
            if consumer.name.endswith(("-cases", "-progress")):
                await consumer.stop()
        headers = bearer(settings, org="370285101294")
        body = application(org="370285101294")
        for _ in range(cases):
            response = await intake.client.post(
                "/v1/applications", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            assert response.status_code == 201, response.text
        yield servers, settings, intake, routing


def _per_event(events: int, cpu: float, pg_cpu: float, statements: int, calls: int | None) -> dict[str, Any]:
    return {
        "cpu_ms_per_event": round(cpu * 1000 / events, 3),
        "pg_cpu_ms_per_event": round(pg_cpu * 1000 / events, 3),
        "statements_per_event": round(statements / events, 2),
        # Under cProfile (PROBE_DUMP) only: Python calls of the whole process per event.
        **({"calls_per_event": calls} if calls is not None else {}),
    }


def _tally(seen: list[str], events: int) -> None:
    """Which statements were sent, most frequent first, per event."""
    tally: dict[str, int] = {}
    for text in seen:
        tally[text[:90]] = tally.get(text[:90], 0) + 1
    for text, n in sorted(tally.items(), key=lambda kv: -kv[1]):
        print(f"{n / events:6.2f}  {text}")


def _named(service: RunningService, suffix: str) -> EventConsumer:
    return next(c for c in service.runtime.consumers if c.name.endswith(suffix))


async def probe_routing(cases: int, show: bool = False) -> dict[str, Any]:
    """Routing's `cases` consumer catching up with `cases` acceptances queued while it was stopped,
    until each case has its task at the township (the item is decided there): three events per
    case through the one consumer, accepted at the village, forwarded to the township (assigned
    there), and the township's acknowledgement to the village; the relay between."""
    async with _accepted_at_a_village(cases) as (servers, settings, _, routing):
        consumer = _named(routing, "-cases")
        await asyncio.sleep(2.0)  # intake's relay publishes the acceptances
        statements = _Statements(routing.runtime.engine, keep=100 * cases if show else 0)
        # Polled on a connection of its own, so that the polls are not counted as routing's.
        poll = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        pg = _postgres(_postmaster(servers))  # the backends connected by now
        profiler = cProfile.Profile() if os.environ.get("PROBE_DUMP") else None
        cpu0, pg0, wall0 = time.process_time(), _cpu(pg), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await consumer.start()
        while True:
            if int(await poll.fetchval("SELECT count(*) FROM routing.tasks")) >= cases:
                break
            await asyncio.sleep(0.05)
        await poll.close()
        cpu1, pg1, wall1 = time.process_time(), _cpu(pg), time.perf_counter()
        events = 3 * cases
        calls = None
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.environ["PROBE_DUMP"])
            calls = round(pstats.Stats(profiler).total_calls / events)  # type: ignore[attr-defined]
        if show:
            _tally(statements.seen, events)
        return {
            "cases": cases,
            "seconds": round(wall1 - wall0, 2),
            "cases_per_s": round(cases / (wall1 - wall0), 1),
            **_per_event(events, cpu1 - cpu0, pg1 - pg0, statements.count, calls),
        }


async def probe_progress(cases: int) -> dict[str, Any]:
    """Intake's `progress` consumer catching up with routing's events about `cases` acceptances
    (forwarded, received, assigned: the progress copies), queued while it was stopped, until every
    case shows as assigned at the point where it was accepted. Events are counted from its inbox."""
    async with _accepted_at_a_village(cases) as (servers, settings, intake, routing):
        progress = _named(intake, "-progress")
        await _named(routing, "-cases").start()
        poll = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        inbox = "SELECT count(*) FROM intake.inbox WHERE consumer = $1"
        while True:
            if int(await poll.fetchval("SELECT count(*) FROM routing.tasks")) >= cases:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # routing's relay publishes the last events
        applied0 = int(await poll.fetchval(inbox, progress.name))
        statements = _Statements(intake.runtime.engine)
        pg = _postgres(_postmaster(servers))
        profiler = cProfile.Profile() if os.environ.get("PROBE_DUMP") else None
        cpu0, pg0, wall0 = time.process_time(), _cpu(pg), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await progress.start()
        assigned = "SELECT count(*) FROM intake.cases WHERE status = 'assigned'"
        while True:
            if int(await poll.fetchval(assigned)) >= cases:
                break
            await asyncio.sleep(0.05)
        cpu1, pg1, wall1 = time.process_time(), _cpu(pg), time.perf_counter()
        if profiler is not None:
            profiler.disable()
        events = int(await poll.fetchval(inbox, progress.name)) - applied0
        await poll.close()
        calls = None
        if profiler is not None:
            profiler.dump_stats(os.environ["PROBE_DUMP"])
            calls = round(pstats.Stats(profiler).total_calls / events)  # type: ignore[attr-defined]
        return {
            "cases": cases,
            "events": events,
            "seconds": round(wall1 - wall0, 2),
            "events_per_s": round(events / (wall1 - wall0), 1),
            **_per_event(events, cpu1 - cpu0, pg1 - pg0, statements.count, calls),
        }


async def probe_audit(events: int, show: bool = False) -> dict[str, Any]:
    """Audit's log and statistics consumers catching up with `events` one-time notices published
    while they were stopped (each notice: an entry in the chain, a statistics counter bumped),
    until every entry exists; statements, CPU and wall time per event, both consumers together."""
    from bench.audit import notices
    from tests.integration.audit.journey import bearer as bearer_audit
    from tests.integration.audit.journey import publish

    async with _node("370285000000") as (servers, settings), running("audit", settings) as audit:
        consumers = [c for c in audit.runtime.consumers if c.name.endswith(("-log", "-stats"))]
        for consumer in consumers:
            await consumer.stop()
        await publish(settings, notices(events))
        statements = _Statements(audit.runtime.engine, keep=20 * events if show else 0)
        poll = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        pg = _postgres(_postmaster(servers))
        profiler = cProfile.Profile() if os.environ.get("PROBE_DUMP") else None
        cpu0, pg0, wall0 = time.process_time(), _cpu(pg), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for consumer in consumers:
            await consumer.start()
        counted = (
            "SELECT coalesce(sum(value), 0) FROM audit.stat_counters "
            "WHERE metric = 'one_time_notices' AND dimension = 'total' AND org = '370285000000'"
        )
        while True:
            logged = int(await poll.fetchval("SELECT count(*) FROM audit.entries"))
            if logged >= events and int(await poll.fetchval(counted)) >= events:
                break
            await asyncio.sleep(0.05)
        cpu1, pg1, wall1 = time.process_time(), _cpu(pg), time.perf_counter()
        calls = None
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.environ["PROBE_DUMP"])
            calls = round(pstats.Stats(profiler).total_calls / events)  # type: ignore[attr-defined]
        await poll.close()
        if show:
            _tally(statements.seen, events)
        # The chain the catch-up wrote must verify (hashes, links, the head).
        verified = await audit.client.get("/v1/audit/verify", headers=bearer_audit(settings))
        assert verified.status_code == 200 and verified.json()["ok"], verified.text
        return {
            "events": events,
            "seconds": round(wall1 - wall0, 2),
            "events_per_s": round(events / (wall1 - wall0), 1),
            **_per_event(events, cpu1 - cpu0, pg1 - pg0, statements.count, calls),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=1, help="acceptances in flight at once")
    parser.add_argument(
        "--show",
        action="store_true",
        help="print the statements of the last requests (with --routing or --audit: counted per event)",
    )
    parser.add_argument("--routing", type=int, metavar="CASES", help="measure routing catching up instead")
    parser.add_argument(
        "--progress", type=int, metavar="CASES", help="measure intake's progress consumer catching up instead"
    )
    parser.add_argument("--audit", type=int, metavar="EVENTS", help="measure audit's consumers catching up")
    args = parser.parse_args()
    if args.audit:
        print(json.dumps(asyncio.run(probe_audit(args.audit, args.show)), indent=1))
    elif args.progress:
        print(json.dumps(asyncio.run(probe_progress(args.progress)), indent=1))
    elif args.routing:
        print(json.dumps(asyncio.run(probe_routing(args.routing, args.show)), indent=1))
    else:
        print(
            json.dumps(asyncio.run(probe(args.requests, args.rounds, args.show, args.concurrency)), indent=1)
        )


if __name__ == "__main__":
    main()
