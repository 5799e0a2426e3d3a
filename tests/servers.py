"""Real PostgreSQL and nats-server for integration and end-to-end tests.

Embedded servers on free ports, or the external ones named by DAIBAN_DATABASE_URL and
DAIBAN_NATS_URL. Every test node gets its own database (cloned from a migrated template) and its
own stream and subject root, so tests never see each other's data or events.
"""

from __future__ import annotations

import asyncio
import csv
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from daiban_common.app import create_app
from daiban_common.db import asyncpg_dsn, with_database
from daiban_common.migrations import upgrade
from daiban_common.orgunits import replica_of
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_contracts.crossing import Topology, accepting_org, copied_as
from daiban_contracts.envelope import Envelope
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.subjects import CopyKind, Subjects
from daiban_devtools.demo.inprocess import subject_matches
from daiban_devtools.embedded import EmbeddedNats, EmbeddedPostgres, free_port

TEMPLATE_DB = "daiban_test_template"
DIVISIONS = Path(__file__).resolve().parents[1] / "data" / "divisions" / "seed-counties.csv"
# The services that keep a replica of the directory's org units (not its owner, routing).
REPLICA_SCHEMAS = tuple(spec.schema for spec in discover_services().values() if spec.known_orgs is replica_of)


@dataclass
class Servers:
    pg_url: str  # server URL, database "postgres"
    nats_url: str
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.destroy()


def start_servers(base: Path, *, with_nats: bool = True) -> Servers:
    """PostgreSQL and (unless the caller brings its own, as the tier tests do) a nats-server."""
    external_db = os.environ.get("DAIBAN_DATABASE_URL")
    external_nats = os.environ.get("DAIBAN_NATS_URL")
    pg = nats = None
    if external_db:
        pg_url = with_database(external_db, "postgres")
    else:
        pg = EmbeddedPostgres(base / "pg", free_port(), fast_unsafe=True)
        pg_url = pg.start()
    if external_nats or not with_nats:
        nats_url = external_nats or ""
    else:
        nats = EmbeddedNats(base / "nats", free_port())
        nats_url = nats.start()
    return Servers(pg_url=pg_url, nats_url=nats_url, pg=pg, nats=nats)


async def create_template(servers: Servers) -> None:
    await _recreate(servers.pg_url, TEMPLATE_DB)
    url = with_database(servers.pg_url, TEMPLATE_DB)
    for spec in discover_services().values():
        await asyncio.to_thread(upgrade, spec, url)
    await _known_org_units(url)
    await _known_test_staff(url)


async def _known_org_units(url: str) -> None:
    """Every node starts knowing the org units of the demo counties, as if routing had published
    them (`OrgUnitsPublished`): tests that run intake, catalogue or audit without routing still
    meet tokens of real units. Routing's own directory stays empty until a test seeds it; the
    replicas learning units by event is tested in tests/integration/test_org_units.py."""
    with DIVISIONS.open(encoding="utf-8", newline="") as handle:
        rows = [(r["code"], r["name"], r["level"], r["parent_code"] or None) for r in csv.DictReader(handle)]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for schema in REPLICA_SCHEMAS:
            await conn.copy_records_to_table(
                "org_units", schema_name=schema, records=rows, columns=["code", "name", "tier", "parent_code"]
            )
    finally:
        await conn.close()


# The subjects the integration tests' tokens use for agents and clerks (`agent-<org>`, `clerk@<org>`).
TEST_STAFF_FORMS = ("{role}-{org}", "{role}@{org}")


async def _known_test_staff(url: str) -> None:
    """Intake's staff replica starts knowing the tests' agents and clerks of every demo unit, as if
    routing had published them (`StaffPublished`); learning staff by event, and refusing anyone
    else, is tested in tests/integration/test_staff_directory.py."""
    with DIVISIONS.open(encoding="utf-8", newline="") as handle:
        orgs = [r["code"] for r in csv.DictReader(handle)]
    rows = [
        (form.format(role=role, org=org), org)
        for org in orgs
        for role in ("agent", "clerk")
        for form in TEST_STAFF_FORMS
    ]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_records_to_table(
            "staff_directory", schema_name="intake", records=rows, columns=["staff_id", "org"]
        )
    finally:
        await conn.close()


async def _recreate(server_url: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()


@dataclass
class Network:
    """One test's isolated network: its own subject root and streams on the shared servers."""

    servers: Servers
    tmp: Path
    name: str

    async def node(self, org: str = "370285000000", **overrides: object) -> Settings:
        """Settings for a node of `org` with a fresh, migrated database of its own."""
        database = f"{self.name}_{org}"
        await _recreate(self.servers.pg_url, database, template=TEMPLATE_DB)
        values: dict[str, object] = {
            "env": "test",
            "org": org,
            "node": f"{self.name}-{org}",
            "database_url": with_database(self.servers.pg_url, database),
            "nats_url": self.servers.nats_url,
            # A stream per node: a county node with a township node below it (`child_nodes`) and
            # that township node share the server, each stream owning its own subjects.
            "stream_name": self.name.upper() + ("" if org.endswith("000000") else f"_{org[:9]}"),
            "subject_root": self.name,
            "var_dir": self.tmp,
            "jwt_secret": "test-secret-" + self.name + "-0123456789abcdef0123456789abcdef",
            "pii_salt": "test-salt",
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


def new_network(servers: Servers, tmp: Path) -> Network:
    return Network(servers=servers, tmp=tmp, name=f"t{uuid.uuid4().hex[:10]}")


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> ServiceRuntime:
        runtime = self.app.state.runtime
        assert isinstance(runtime, ServiceRuntime)
        return runtime


@asynccontextmanager
async def running(
    spec: ServiceSpec | str,
    settings: Settings,
    *,
    span_processors: tuple[SpanProcessor, ...] = (),
    wait_for_bus: bool = True,
) -> AsyncIterator[RunningService]:
    """A service in this process, its lifespan running, reached through an in-memory client."""
    if isinstance(spec, str):
        spec = discover_services()[spec]
    app = create_app(spec, settings, span_processors=span_processors)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        if wait_for_bus:
            await asyncio.wait_for(runtime.bus_ready.wait(), 15)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{spec.name}") as client:
            yield RunningService(app=app, client=client)


async def eventually(check: object, within: float = 10.0, interval: float = 0.05) -> object:
    """Poll an async predicate until it returns a truthy value (events travel asynchronously)."""
    deadline = asyncio.get_running_loop().time() + within
    last: object = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()  # type: ignore[operator]
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last value: {last!r})")


def node_subjects(settings: Settings, envelope: Envelope) -> list[str]:
    """Where the node of `settings` finds `envelope` when another service or node sends it: the
    event's own subject if the node's stream holds it, and the copies another node would address to
    this one (daiban_contracts.crossing): its cases' progress, and at a township node the county's
    publications."""
    subjects = Subjects(settings.subject_root)
    node = OrgCode.parse(settings.org)
    kinds = [CopyKind.published] if node.tier is Tier.township else []
    accepted_at = accepting_org(envelope.subject)
    if accepted_at is not None and Topology.of(node, settings.child_nodes).node_of(accepted_at) == node:
        kinds.append(CopyKind.progress)
    candidates = [subjects.of(envelope)]
    candidates += [
        subjects.copy(node, kind, envelope.type) for kind in kinds if copied_as(kind, envelope.type)
    ]
    stream = subjects.node_stream(node, settings.child_nodes)
    return [s for s in candidates if any(subject_matches(pattern, s) for pattern in stream)]
