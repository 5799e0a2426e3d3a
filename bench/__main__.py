"""`make bench`: start embedded servers, run each measurement, write bench/results/<date>.json."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import relay
from daiban_common.db import ensure_database, with_database
from daiban_common.embedded import EmbeddedNats, EmbeddedPostgres, free_port

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="daiban-bench-"))
    pg = EmbeddedPostgres(base / "pg", free_port())
    nats_server = EmbeddedNats(base / "nats", free_port())
    try:
        server_url = pg.start()
        asyncio.run(ensure_database(server_url, "bench"))
        nats_url = nats_server.start()
        figures = {"relay": asyncio.run(relay.run(with_database(server_url, "bench"), nats_url))}
    finally:
        nats_server.stop()
        pg.destroy()
    result = {"date": datetime.now(UTC).isoformat(), "machine": machine(), "figures": figures}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    r = figures["relay"]
    rows = [
        (
            "relay outbox -> JetStream",
            f"{r['relay_per_s']} events/s",
            f"raw publish_async {r['raw_publish_per_s']}/s",
            f"{r['relay_ratio']:.0%}",
        ),
        (
            f"relay lag at {r['lag_load_per_s']:.0f} commits/s",
            f"p50 {r['lag_p50_ms']} ms, p99 {r['lag_p99_ms']} ms",
            "-",
            "-",
        ),
    ]
    print("| measurement | figure | ceiling | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
