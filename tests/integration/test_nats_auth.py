"""Every NATS connection authenticated, every subject permitted: real nats-servers configured as
`make run` and `make run --tiers` configure them (daiban_devtools.devstack, .tiers, .nats_systems).

A publish the server refuses never reaches a stream: nats-py reports the server's
`Permissions Violation` to the connection's error callback, and the JetStream publish gets no ack.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError
from sqlalchemy import select

from daiban_common import bus
from daiban_common.settings import Settings
from daiban_contracts.case import CaseSupplemented, Outcome, StaffRef
from daiban_contracts.envelope import make_envelope
from daiban_contracts.routing import CaseDecided
from daiban_contracts.subjects import CopyKind, Subjects
from daiban_devtools import nats_systems as systems
from daiban_devtools.devstack import credentials_dir, embedded_nats, nats_dir
from daiban_devtools.embedded import EmbeddedNats, free_port
from daiban_devtools.nats_systems_cli import apply_registry
from daiban_devtools.tiers import NatsNetwork
from tests.servers import Network, eventually, running

pytestmark = pytest.mark.integration

COUNTY, TOWNSHIP, OTHER = "370285000000", "370285101000", "370285102000"
VILLAGE = "370285101294"
CASE = f"{VILLAGE}-20261206-0001"
SYSTEM = "jiangshan-hall"


@dataclass
class Client:
    nc: NATS
    errors: list[str] = field(default_factory=list)

    async def stored(self, subject: str, payload: bytes = b"{}") -> bool:
        """Whether a stream acknowledged the publish (False: refused, or no stream takes it)."""
        try:
            await self.nc.jetstream().publish(subject, payload, timeout=2)
        except (NoStreamResponseError, NatsTimeoutError):
            return False
        return True

    async def refused(self, subject: str, payload: bytes = b"{}") -> bool:
        """The server refused the publish as a permission violation, and nothing stored it."""
        stored = await self.stored(subject, payload)
        await self.nc.flush()
        return not stored and any("permissions violation" in e and subject in e for e in self.errors)


async def connect(url: str, credential: bus.Credential | None) -> Client:
    client = Client(nc=NATS())

    async def collect(exc: Exception) -> None:
        client.errors.append(str(exc).lower())

    await client.nc.connect(
        servers=[url],
        error_cb=collect,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        user=credential.user if credential else None,
        password=credential.password if credential else None,
        inbox_prefix=credential.inbox_prefix if credential else "_INBOX",
    )
    return client


def node_settings(tmp_path: Path) -> Settings:
    return Settings(org=COUNTY, var_dir=tmp_path / "var", embedded_nats_port=free_port())


def credential(settings: Settings, service: str) -> bus.Credential:
    found = bus.credential_for(
        settings.model_copy(update={"nats_credentials": credentials_dir(settings)}), service
    )
    assert found is not None
    return found


def system_credential(settings: Settings, system: str) -> bus.Credential:
    entry = systems.load(nats_dir(settings) / systems.REGISTRY)[system]
    return bus.Credential(entry.user, entry.password)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Settings, EmbeddedNats]]:
    """A `make run` node's server with its stream, and a system issued for township 101."""
    settings = node_settings(tmp_path)
    systems.issue(nats_dir(settings) / systems.REGISTRY, TOWNSHIP, SYSTEM)
    server = embedded_nats(settings)
    server.start()
    try:
        yield settings, server
    finally:
        server.stop()


@pytest.fixture
async def stream(node: tuple[Settings, EmbeddedNats]) -> AsyncIterator[tuple[Settings, EmbeddedNats]]:
    settings, server = node
    routing = await connect(server.url, credential(settings, "routing"))
    try:
        await bus.ensure_stream(routing.nc.jetstream(), "DAIBAN", Subjects().node_stream(COUNTY))
    finally:
        await routing.nc.close()
    yield node


def decision() -> CaseDecided:
    return CaseDecided(
        case_number=CASE,
        accepting_org=VILLAGE,
        org=TOWNSHIP,
        outcome=Outcome.approved,
        decided_by=StaffRef(staff_id="nobody", name="nobody", org=TOWNSHIP),
        decided_at=datetime(2026, 12, 6, 9, tzinfo=UTC),
        due_date=date(2026, 12, 20),
        on_time=True,
    )


def forged_decision() -> bytes:
    """The issue's forged decision: case.decided for a real case, actor "nobody"."""
    return make_envelope(
        decision(), source="/daiban/n370285000000/routing", subject=CASE, org=TOWNSHIP, actor="nobody"
    ).to_bytes()


async def test_a_client_without_a_credential_cannot_connect(node: tuple[Settings, EmbeddedNats]) -> None:
    _, server = node
    with pytest.raises(Exception, match=r"(?i)authorization"):
        await connect(server.url, None)
    with pytest.raises(Exception, match=r"(?i)authorization"):
        await connect(server.url, bus.Credential("n370285000000-routing", "guessed"))


async def test_only_routing_may_publish_a_decision(stream: tuple[Settings, EmbeddedNats]) -> None:
    settings, server = stream
    subject = "daiban.370285.101.000.case.decided"
    for service in ("intake", "catalogue", "audit"):
        client = await connect(server.url, credential(settings, service))
        try:
            assert await client.refused(subject, forged_decision()), (service, client.errors)
        finally:
            await client.nc.close()
    # The forged decision of the issue, from the township's hall system: refused as well.
    hall = await connect(server.url, system_credential(settings, SYSTEM))
    try:
        assert await hall.refused(subject, forged_decision())
    finally:
        await hall.nc.close()
    routing = await connect(server.url, credential(settings, "routing"))
    try:
        assert await routing.stored(subject, forged_decision())
        # Intake's own type, though, is not routing's to publish.
        assert await routing.refused("daiban.370285.101.294.case.accepted")
    finally:
        await routing.nc.close()


async def test_a_system_publishes_only_its_ingress_types_in_its_township(
    stream: tuple[Settings, EmbeddedNats],
) -> None:
    settings, server = stream
    subjects = Subjects()
    hall = await connect(server.url, system_credential(settings, SYSTEM))
    try:
        # The node's stream takes the ingress subject (8 tokens, within the node's subtree).
        assert await hall.stored(subjects.ingress(VILLAGE, SYSTEM, CaseSupplemented))
        assert await hall.refused(subjects.ingress(VILLAGE, SYSTEM, CaseDecided))
        assert await hall.refused(subjects.ingress("370285102210", SYSTEM, CaseSupplemented))
        assert await hall.refused(subjects.ingress(VILLAGE, "other-hall", CaseSupplemented))
        assert await hall.refused("daiban.370285.101.294.case.supplemented")
    finally:
        await hall.nc.close()


async def test_issue_and_revoke_take_effect_on_the_running_server(
    stream: tuple[Settings, EmbeddedNats],
) -> None:
    settings, server = stream
    registry = nats_dir(settings) / systems.REGISTRY
    entry = systems.issue(registry, OTHER, "maliang-terminal")
    assert "reloaded" in apply_registry(settings)
    assert (registry.stat().st_mode & 0o077) == 0
    terminal = bus.Credential(entry.user, entry.password)

    async def connects() -> bool:
        try:
            client = await connect(server.url, terminal)
        except Exception:
            return False
        await client.nc.close()
        return True

    assert await eventually(connects)
    assert systems.revoke(registry, "maliang-terminal")
    apply_registry(settings)

    async def refused() -> bool:
        return not await connects()

    assert await eventually(refused)


async def test_a_township_publishes_nothing_into_another_township(tier_servers: NatsNetwork) -> None:
    tiers = tier_servers
    intake = await connect(tiers.url(TOWNSHIP), tiers.credential(TOWNSHIP, "intake"))
    routing = await connect(tiers.url(TOWNSHIP), tiers.credential(TOWNSHIP, "routing"))
    try:
        assert await intake.refused("daiban.370285.102.210.case.accepted")
        assert await routing.refused("daiban.370285.102.000.case.returned_down")
        # A county publication is not a township's to send up, even to its own county's org.
        assert await routing.refused("daiban.370285.000.000.catalogue.item_published")
    finally:
        await intake.nc.close()
        await routing.nc.close()


async def test_an_event_whose_source_disagrees_is_dead_lettered(network: Network, tmp_path: Path) -> None:
    """Routing's credential may publish a progress copy of a decision; the envelope claims intake
    sent it: intake parks it with the reason and applies nothing."""
    base = await network.node(COUNTY)
    auth = base.model_copy(update={"var_dir": tmp_path / "auth", "embedded_nats_port": free_port()})
    server = embedded_nats(auth)
    server.start()
    try:
        settings = auth.model_copy(update={"nats_url": server.url, "nats_credentials": credentials_dir(auth)})
        async with running("intake", settings) as intake:
            subjects = Subjects(settings.subject_root)
            envelope = make_envelope(
                decision(),
                source=f"/daiban/{settings.node_name}/intake",
                subject=CASE,
                org=TOWNSHIP,
                actor="nobody",
            )
            routing = await connect(server.url, credential(auth, "routing"))
            try:
                subject = subjects.copy(COUNTY, CopyKind.progress, CaseDecided)
                await routing.nc.jetstream().publish(subject, envelope.to_bytes(), timeout=5)
            finally:
                await routing.nc.close()
            dead = intake.runtime.tables.dead_letters

            async def parked() -> str | None:
                async with intake.runtime.engine.connect() as conn:
                    return await conn.scalar(select(dead.c.error).where(dead.c.event_id == envelope.id))

            reason = await eventually(parked)
            assert isinstance(reason, str) and "只能由routing服务发出" in reason
    finally:
        server.stop()
