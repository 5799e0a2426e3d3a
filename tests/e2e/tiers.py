"""Two nodes as a county runs them, for the end-to-end test of tiers that run separately.

One PostgreSQL server and one nats-server, started here and shared; on them the county node and
the township node are each a `daiban run` of its own (harness.Suite): a database each, durable
consumers named after each node, the township serving intake, routing and audit only (the
catalogue is authoritative at the county). The county leaves the township to it through
`DAIBAN_CHILD_NODES`. Because the servers are not the county's, its services can be stopped and
started again while the township node and the broker carry on.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.errors import NotFoundError

from daiban_common.db import ensure_database, with_database
from daiban_common.service import discover_services
from daiban_contracts.envelope import Envelope
from tests.e2e.harness import COUNTY, Suite, free_ports
from tests.servers import Servers, start_servers

TOWNSHIP = "370285101000"  # 姜山镇, whose windows and staff the demo directory holds
TOWNSHIP_SERVICES = tuple(name for name, spec in discover_services().items() if spec.township)
STREAM = "DAIBAN"
SCHEMAS = {"county": tuple(discover_services()), "township": TOWNSHIP_SERVICES}


@dataclass(frozen=True)
class Stored:
    """An event as the stream holds it: its sequence number and its envelope."""

    seq: int
    envelope: Envelope


@dataclass
class TwoNodes:
    servers: Servers
    county: Suite
    township: Suite
    databases: dict[str, str]

    @classmethod
    def start(cls, base: Path) -> TwoNodes:
        servers = start_servers(base / "servers")
        databases = {name: with_database(servers.pg_url, f"tiers_{name}") for name in ("county", "township")}
        for url in databases.values():
            asyncio.run(ensure_database(servers.pg_url, url.rsplit("/", 1)[1]))
        # One county: one signing key for staff tokens and one salt for personal data in events.
        shared = {
            "DAIBAN_NATS_URL": servers.nats_url,
            "DAIBAN_JWT_SECRET": f"e2e-tiers-{uuid.uuid4().hex}",
            "DAIBAN_PII_SALT": f"e2e-tiers-salt-{uuid.uuid4().hex}",
            # The demo's months of history are not what this test is about; it takes minutes.
            "DAIBAN_DEMO_HISTORY_CASES": "0",
        }
        county = Suite(
            var_dir=base / "county" / "var",
            ports=free_ports(),
            org=COUNTY,
            env={**shared, "DAIBAN_DATABASE_URL": databases["county"], "DAIBAN_CHILD_NODES": TOWNSHIP},
        )
        township = Suite(
            var_dir=base / "township" / "var",
            ports=free_ports(),
            org=TOWNSHIP,
            services=TOWNSHIP_SERVICES,
            # Checkpoints often enough that the county holds some of the township's within the test.
            env={
                **shared,
                "DAIBAN_DATABASE_URL": databases["township"],
                "DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES": "5",
            },
        )
        nodes = cls(servers=servers, county=county, township=township, databases=databases)
        try:
            # Two `daiban run`s side by side: each migrates and seeds its own database.
            with ThreadPoolExecutor(2) as pool:
                for started in [pool.submit(county.launch), pool.submit(township.launch)]:
                    started.result()
        except BaseException:
            nodes.stop()
            raise
        return nodes

    def stop(self) -> None:
        try:
            for suite in (self.township, self.county):
                suite.stop()
        finally:
            self.servers.stop()

    # -- what the broker holds ---------------------------------------------------------------------

    def events_of(self, case_number: str) -> list[Stored]:
        """Every event about the case on the stream, in order (whoever published it)."""
        return [e for e in asyncio.run(self._stream()) if e.envelope.subject == case_number]

    async def _stream(self) -> list[Stored]:
        nc = await nats.connect(self.servers.nats_url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(STREAM)
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    msg = await js.get_msg(STREAM, seq)
                except NotFoundError:
                    continue
                found.append(Stored(seq, Envelope.from_bytes(msg.data or b"")))
            return found
        finally:
            await nc.close()

    def delivered_up_to(self, durable: str) -> int:
        """The last stream sequence the durable consumer has been handed (0: none yet)."""

        async def ask() -> int:
            nc = await nats.connect(self.servers.nats_url)
            try:
                info = await nc.jetstream().consumer_info(STREAM, durable)
                return int(info.delivered.stream_seq or 0)
            finally:
                await nc.close()

        return asyncio.run(ask())

    # -- what a node's database holds -----------------------------------------------------------------

    def query(self, node: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        async def fetch() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(self.databases[node])
            try:
                return [tuple(row) for row in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(fetch())

    def dead_letters(self, node: str) -> list[tuple[Any, ...]]:
        """Events a node's consumers parked (there should be none), with the reason."""
        return [
            row
            for schema in SCHEMAS[node]
            for row in self.query(node, f"SELECT consumer, type, error FROM {schema}.dead_letters")
        ]
