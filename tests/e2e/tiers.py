"""A county and two township nodes as a county runs them, for the end-to-end tests of the tiers.

Each node is a `daiban run` of its own (harness.Suite) with its own database (on one PostgreSQL
server, started here) and its own nats-server: the county's is the hub, each township's a leaf node
of it with a JetStream domain of its own, authenticating with its own password
(daiban_devtools.tiers.NatsNetwork, the same servers `daiban run --tiers` starts). Each township's
leaf dials the hub through a `Link` the tests can cut, as a broken line between a township and the
county seat would. The county leaves both townships to their nodes (`DAIBAN_CHILD_NODES`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from nats.js.errors import NotFoundError

from daiban_common.db import ensure_database, with_database
from daiban_common.service import discover_services
from daiban_contracts.envelope import Envelope
from daiban_devtools.embedded import free_port
from daiban_devtools.link import Link
from daiban_devtools.tiers import NatsNetwork
from tests.e2e.harness import COUNTY, Suite, free_ports
from tests.servers import Servers, start_servers

TOWNSHIP = "370285101000"  # 姜山镇, whose windows and staff the demo directory holds
OTHER_TOWNSHIP = "370285102000"  # 夏格庄镇
TOWNSHIPS = (TOWNSHIP, OTHER_TOWNSHIP)
TOWNSHIP_SERVICES = tuple(name for name, spec in discover_services().items() if spec.township)
STREAM = "DAIBAN"
_CONSUMED = re.compile(r'^events_consumed_total\{consumer="([^"]+)",type="[^"]+",outcome="(\w+)"\} (\S+)$')


@dataclass(frozen=True)
class Stored:
    """An event as a node's stream holds it: the node, its sequence number, subject and envelope."""

    node: str
    seq: int
    subject: str
    envelope: Envelope

    @property
    def is_copy(self) -> bool:
        return ".copy." in self.subject


@dataclass
class TierNodes:
    servers: Servers
    network: NatsNetwork
    links: dict[str, Link]
    suites: dict[str, Suite]
    databases: dict[str, str]

    @classmethod
    def start(cls, base: Path) -> TierNodes:
        servers = start_servers(base / "servers", with_nats=False)
        orgs = (COUNTY, *TOWNSHIPS)
        databases = {org: with_database(servers.pg_url, f"tiers_{org}") for org in orgs}
        for url in databases.values():
            asyncio.run(ensure_database(servers.pg_url, url.rsplit("/", 1)[1]))
        leaf_port = free_port()
        links = {t: Link(target_port=leaf_port) for t in TOWNSHIPS}
        network = NatsNetwork(
            base=base / "nats",
            county=COUNTY,
            townships=TOWNSHIPS,
            hub_port=free_port(),
            township_ports={t: free_port() for t in TOWNSHIPS},
            leaf_port=leaf_port,
            uplinks={t: link.port for t, link in links.items()},
        )
        for link in links.values():
            link.mend()
        network.start()
        # One county: one signing key for staff tokens and one salt for personal data in events.
        shared = {
            "DAIBAN_JWT_SECRET": f"e2e-tiers-{uuid.uuid4().hex}",
            "DAIBAN_PII_SALT": f"e2e-tiers-salt-{uuid.uuid4().hex}",
            # The demo's months of history are not what these tests are about; it takes minutes.
            "DAIBAN_DEMO_HISTORY_CASES": "0",
            # Checkpoints often enough that the county holds some of each township's in a test.
            "DAIBAN_AUDIT_CHECKPOINT_EVERY_ENTRIES": "5",
        }
        suites = {
            COUNTY: Suite(
                var_dir=base / "county" / "var",
                ports=free_ports(),
                org=COUNTY,
                env={
                    **shared,
                    "DAIBAN_DATABASE_URL": databases[COUNTY],
                    "DAIBAN_NATS_URL": network.url(COUNTY),
                    "DAIBAN_NATS_CREDENTIALS": str(network.credentials(COUNTY)),
                    "DAIBAN_CHILD_NODES": ",".join(TOWNSHIPS),
                },
            ),
            **{
                t: Suite(
                    var_dir=base / t / "var",
                    ports=free_ports(),
                    org=t,
                    services=TOWNSHIP_SERVICES,
                    env={
                        **shared,
                        "DAIBAN_DATABASE_URL": databases[t],
                        "DAIBAN_NATS_URL": network.url(t),
                        "DAIBAN_NATS_CREDENTIALS": str(network.credentials(t)),
                    },
                )
                for t in TOWNSHIPS
            },
        }
        nodes = cls(servers=servers, network=network, links=links, suites=suites, databases=databases)
        try:
            # Three `daiban run`s side by side: each migrates and seeds its own database.
            with ThreadPoolExecutor(len(suites)) as pool:
                for started in [pool.submit(suite.launch) for suite in suites.values()]:
                    started.result()
        except BaseException:
            nodes.stop()
            raise
        return nodes

    @property
    def county(self) -> Suite:
        return self.suites[COUNTY]

    @property
    def township(self) -> Suite:
        return self.suites[TOWNSHIP]

    @property
    def other_township(self) -> Suite:
        return self.suites[OTHER_TOWNSHIP]

    def stop(self) -> None:
        try:
            for suite in reversed(self.suites.values()):
                suite.stop()
        finally:
            for link in self.links.values():
                link.cut()
            self.network.stop()
            self.servers.stop()

    @contextmanager
    def cut_off(self, township: str) -> Iterator[None]:
        """The line between `township` and the county seat is down inside the block."""
        self.links[township].cut()
        try:
            yield
        finally:
            self.links[township].mend()

    # -- what the brokers hold ---------------------------------------------------------------------

    def events_of(self, case_number: str) -> list[Stored]:
        """Every event and copy about the case on every node's stream, node by node, in order."""
        return self.events_by_case().get(case_number, [])

    def events_by_case(self) -> dict[str, list[Stored]]:
        """Every event and copy on every node's stream, by the envelope's subject (a case number)."""
        found: dict[str, list[Stored]] = {}
        for stored in asyncio.run(self._streams()):
            found.setdefault(stored.envelope.subject, []).append(stored)
        return found

    async def _streams(self) -> list[Stored]:
        found: list[Stored] = []
        for org in (COUNTY, *TOWNSHIPS):
            nc = await self.network.connect(org)
            try:
                js = nc.jetstream()
                info = await js.stream_info(STREAM)
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    try:
                        msg = await js.get_msg(STREAM, seq)
                    except NotFoundError:
                        continue
                    found.append(Stored(org, seq, msg.subject or "", Envelope.from_bytes(msg.data or b"")))
            finally:
                await nc.close()
        return found

    def delivered_up_to(self, node: str, durable: str) -> int:
        """The last stream sequence a node's durable consumer has been handed (0: none yet)."""

        async def ask() -> int:
            nc = await self.network.connect(node)
            try:
                info = await nc.jetstream().consumer_info(STREAM, durable)
                return int(info.delivered.stream_seq or 0)
            finally:
                await nc.close()

        return asyncio.run(ask())

    # -- what a node's database and services say -----------------------------------------------------

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
        schemas = self.suites[node].serving
        return [
            row
            for schema in schemas
            for row in self.query(node, f"SELECT consumer, type, error FROM {schema}.dead_letters")
        ]

    def consumed(self, node: str, outcome: str) -> dict[str, float]:
        """Deliveries each of a node's consumers handled with `outcome` (skipped, dead_lettered, ...),
        from its services' /metrics."""
        suite = self.suites[node]
        totals: dict[str, float] = {}
        for name in suite.serving:
            text = httpx.get(f"{suite.url(name)}/metrics", timeout=10).text
            for line in text.splitlines():
                if (match := _CONSUMED.match(line)) and match[2] == outcome:
                    totals[match[1]] = totals.get(match[1], 0.0) + float(match[3])
        return totals
