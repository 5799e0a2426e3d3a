"""A lean HTTP/1.1 load generator, run in its own process(es): `python -m bench.loadgen < spec.json`.

wrk is not a dependency of the project, so this is the project's own: raw keep-alive connections
on uvloop, responses parsed by httptools (what uvicorn itself uses), requests pre-encoded so a
request costs one bytes join and one write. Two modes:

- closed: `connections` clients each send the next request as soon as the previous answer is in
  (the maximum rate at that concurrency);
- open: requests are scheduled at a fixed `rate` whatever the answers do, and latency is counted
  from the scheduled time, so a stalled server cannot hide its queue (no coordinated omission).

Only answers completed (closed) or scheduled (open) inside the measured window count; `warmup`
seconds before it are sent but not counted. Every request gets a unique `Idempotency-Key`
(`<prefix>-<n>`) when `idempotency_prefix` is set. The spec and result are JSON (see `Spec`).
The generator reports its own CPU use, so a run can show that it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, cast

import httptools
import uvloop

GRACE_SECONDS = 15.0


@dataclass
class Spec:
    host: str
    port: int
    # Variants sent round robin: {"method", "path", "headers": {...}, "body": str | None}.
    requests: list[dict[str, Any]]
    mode: str = "closed"
    connections: int = 8
    rate: float = 0.0
    warmup: float = 1.0
    duration: float = 5.0
    idempotency_prefix: str | None = None
    expect: list[int] = field(default_factory=lambda: [200, 201])
    processes: int = 1
    # Set by the parent when it splits the load over several processes.
    worker: int = 0


def _encode(spec: Spec) -> list[tuple[bytes, bytes]]:
    """(head up to the key header, rest) per variant; the key goes in between."""
    encoded = []
    for variant in spec.requests:
        body = (variant.get("body") or "").encode()
        lines = [
            f"{variant.get('method', 'GET')} {variant['path']} HTTP/1.1",
            f"Host: {spec.host}:{spec.port}",
        ]
        lines += [f"{name}: {value}" for name, value in variant.get("headers", {}).items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head = ("\r\n".join(lines) + "\r\n").encode()
        encoded.append((head, b"\r\n" + body))
    return encoded


class Load:
    """The shared state of one generator process: what to send next and what came back."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.variants = _encode(spec)
        self.sent = 0
        self.prefix = (
            f"{spec.idempotency_prefix}-{spec.worker}-".encode() if spec.idempotency_prefix else None
        )
        self.expect = frozenset(spec.expect)
        # (scheduled or sent at, completed at, status)
        self.done: list[tuple[float, float, int]] = []
        self.failures: Counter[str] = Counter()
        self.sample_error: str | None = None
        self.stopping = False
        self.in_flight = 0
        self.idle: deque[Connection] = deque()
        self.backlog: deque[float] = deque()
        self.drained = asyncio.Event()

    def next_request(self) -> bytes:
        head, rest = self.variants[self.sent % len(self.variants)]
        self.sent += 1
        if self.prefix is None:
            return head + rest
        return b"".join((head, b"Idempotency-Key: ", self.prefix, str(self.sent).encode(), b"\r\n", rest))

    def completed(self, conn: Connection, started: float, status: int, body: bytes) -> None:
        self.done.append((started, time.perf_counter(), status))
        self.in_flight -= 1
        if status not in self.expect and self.sample_error is None:
            self.sample_error = f"{status}: {body[:500].decode(errors='replace')}"
        self.dispatch(conn)

    def dispatch(self, conn: Connection) -> None:
        """Give a free connection its next request, or park it.

        Once stopping, a closed loop sends nothing more; an open loop still sends what was
        scheduled inside the window and is waiting for a connection (that wait is latency too).
        """
        if self.backlog:
            conn.send(self.backlog.popleft())
        elif self.spec.mode == "closed" and not self.stopping:
            conn.send(time.perf_counter())
        else:
            self.idle.append(conn)
        if self.stopping and self.in_flight == 0 and not self.backlog:
            self.drained.set()

    def schedule(self, at: float) -> None:
        if self.idle:
            self.idle.popleft().send(at)
        else:
            self.backlog.append(at)


class Connection(asyncio.Protocol):
    def __init__(self, load: Load) -> None:
        self.load = load
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.started = 0.0
        self.body: list[bytes] = []
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, started: float) -> None:
        assert self.transport is not None
        self.started = started
        self.load.in_flight += 1
        self.transport.write(self.load.next_request())

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.load.failures[f"parse: {exc}"] += 1
            assert self.transport is not None
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        body = b"".join(self.body) if status not in self.load.expect else b""
        self.body = []
        self.load.completed(self, self.started, status, body)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.load.stopping:
            self.load.failures[f"connection lost: {exc!r}"] += 1
        if not self.lost.done():
            self.lost.set_result(None)


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarise(latencies_ms: list[float], statuses: Counter[int], spec: Spec) -> dict[str, Any]:
    ordered = sorted(latencies_ms)
    ok = sum(n for status, n in statuses.items() if status in spec.expect)
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "per_s": round(sum(statuses.values()) / spec.duration, 1),
        "ok_per_s": round(ok / spec.duration, 1),
        "p50_ms": round(_percentile(ordered, 0.5), 2),
        "p90_ms": round(_percentile(ordered, 0.9), 2),
        "p99_ms": round(_percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2) if ordered else None,
    }


async def generate(spec: Spec) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    load = Load(spec)
    connections: list[Connection] = []
    for _ in range(spec.connections):
        _, conn = await loop.create_connection(lambda: Connection(load), spec.host, spec.port)
        connections.append(conn)
    started = time.perf_counter()
    window_start, window_end = started + spec.warmup, started + spec.warmup + spec.duration
    usage: dict[str, float] = {}

    async def mark_window() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        usage["start"] = _cpu_seconds()
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        usage["end"] = _cpu_seconds()

    marker = asyncio.create_task(mark_window())
    if spec.mode == "closed":
        for conn in connections:
            conn.send(time.perf_counter())
        await marker
    else:
        load.idle.extend(connections)
        interval = 1.0 / spec.rate
        n = 0
        while True:
            at = started + n * interval
            if at >= window_end:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # Catch up on every request whose time has come (sleep is coarse at high rates).
            now = time.perf_counter()
            while started + n * interval <= now and started + n * interval < window_end:
                load.schedule(started + n * interval)
                n += 1
        await marker
    load.stopping = True
    if load.in_flight or load.backlog:
        try:
            await asyncio.wait_for(load.drained.wait(), GRACE_SECONDS)
        except TimeoutError:
            load.failures["unanswered at the end"] += load.in_flight + len(load.backlog)
    for conn in connections:
        if conn.transport is not None:
            conn.transport.close()
    await asyncio.gather(*(conn.lost for conn in connections))
    # Closed loop: answers completed in the window; open loop: requests scheduled in it.
    pick = 1 if spec.mode == "closed" else 0
    counted = [d for d in load.done if window_start <= d[pick] < window_end]
    return {
        "latencies_ms": [(end - begin) * 1000 for begin, end, _ in counted],
        "statuses": dict(Counter(status for _, _, status in counted)),
        "cpu_seconds": usage["end"] - usage["start"],
        "completed_total": len(load.done),
        "failures": dict(load.failures),
        "sample_error": load.sample_error,
    }


def _cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_workers(spec: Spec) -> dict[str, Any]:
    """Split the load over `processes` generator processes and merge what they measured."""
    if spec.processes <= 1:
        raw = uvloop.run(generate(spec))
    else:
        share = {
            **spec.__dict__,
            "processes": 1,
            "connections": max(1, spec.connections // spec.processes),
            "rate": spec.rate / spec.processes,
        }
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.loadgen", "--raw"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(spec.processes)
        ]
        for index, worker in enumerate(workers):
            assert worker.stdin is not None
            worker.stdin.write(json.dumps({**share, "worker": index}))
            worker.stdin.close()
        parts = []
        for worker in workers:
            assert worker.stdout is not None
            parts.append(json.loads(worker.stdout.read()))
            worker.wait()
        raw = {
            "latencies_ms": [v for p in parts for v in p["latencies_ms"]],
            "statuses": dict(sum((Counter(p["statuses"]) for p in parts), Counter())),
            "cpu_seconds": sum(p["cpu_seconds"] for p in parts),
            "completed_total": sum(p["completed_total"] for p in parts),
            "failures": dict(sum((Counter(p["failures"]) for p in parts), Counter())),
            "sample_error": next((p["sample_error"] for p in parts if p["sample_error"]), None),
        }
    statuses = Counter({int(k): v for k, v in raw["statuses"].items()})
    result = summarise(raw["latencies_ms"], statuses, spec)
    result.update(
        mode=spec.mode,
        connections=spec.connections,
        rate=spec.rate or None,
        processes=spec.processes,
        loadgen_cpu_share=round(raw["cpu_seconds"] / spec.duration, 3),
        completed_total=raw["completed_total"],
        failures=raw["failures"],
        sample_error=raw["sample_error"],
    )
    return result


def main() -> None:
    spec = Spec(**json.load(sys.stdin))
    if "--raw" in sys.argv:
        print(json.dumps(uvloop.run(generate(spec))))
    else:
        print(json.dumps(run_workers(spec)))


def run(spec: dict[str, Any], timeout: float = 300.0) -> dict[str, Any]:
    """Run the generator in a separate process (never in the caller's event loop) and return its result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=os.getcwd(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    main()
