"""docs/examples/township_publisher.py, run as a township system runs it, against a real nats-server
configured as `make run` configures it.

The system's credential is issued as `daiban systems issue` issues it; the example publishes one
supplement to the system's ingress subject with nothing but daiban_contracts and nats-py; the node's
stream stores it, and it reads back as our envelope. The plain event subject is intake's: the
system's credential may not publish there.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError

from daiban_common import bus
from daiban_common.settings import Settings
from daiban_contracts.case import CaseSupplemented
from daiban_contracts.envelope import Envelope
from daiban_contracts.ingress import system_source
from daiban_contracts.subjects import Subjects
from daiban_devtools import nats_systems as systems
from daiban_devtools.credentials import write_secret
from daiban_devtools.devstack import credentials_dir, embedded_nats, nats_dir
from daiban_devtools.embedded import free_port

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "township_publisher.py"
CASE = "370285101294-20260105-0007"
SYSTEM = "jiangshan-hall"


async def test_the_township_example_publishes_a_supplement_we_can_read(tmp_path: Path) -> None:
    settings = Settings(org="370285000000", var_dir=tmp_path / "var", embedded_nats_port=free_port())
    entry = systems.issue(nats_dir(settings) / systems.REGISTRY, "370285101000", SYSTEM)
    server = embedded_nats(settings)
    server.start()
    credential_file = tmp_path / f"{SYSTEM}.json"
    write_secret(credential_file, systems.credential_text(entry, server.url))
    subjects = Subjects()
    node = settings.model_copy(update={"nats_credentials": credentials_dir(settings)})
    try:
        # The stream as the node's services create it; read back as the node's observer.
        routing = await bus.connect(server.url, name="test", credential=bus.credential_for(node, "routing"))
        await bus.ensure_stream(routing.jetstream(), "DAIBAN", subjects.node_stream(settings.org))
        await routing.close()
        nc = await bus.connect(server.url, name="test", credential=bus.credential_for(node, "observer"))
        try:
            js = nc.jetstream()
            env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLE),
                *("--credential", str(credential_file), "--case", CASE),
                *("--material", "M01", "--material", "M03"),
                env=env,
                cwd=EXAMPLE.parent,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, output.decode()
            assert "DAIBAN #1" in output.decode()
            stored = await js.get_msg("DAIBAN", 1)
        finally:
            await nc.close()
        envelope = Envelope.from_bytes(stored.data or b"")
        assert stored.subject == subjects.ingress(envelope.org, SYSTEM, CaseSupplemented)
        assert stored.subject == f"daiban.370285.101.294.ingress.{SYSTEM}.case.supplemented"
        assert stored.headers is not None and stored.headers["Nats-Msg-Id"] == envelope.id
        assert envelope.source == system_source(SYSTEM)
        payload = envelope.payload()
        assert isinstance(payload, CaseSupplemented)
        assert (envelope.subject, payload.case_number, payload.material_codes) == (CASE, CASE, ("M01", "M03"))

        # The same event on intake's own subject: the system's credential may not publish it.
        errors: list[str] = []

        async def collect(exc: Exception) -> None:
            errors.append(str(exc).lower())

        hall = await nats.connect(
            server.url,
            user=entry.user,
            password=entry.password,
            inbox_prefix=f"_INBOX.{entry.user}",
            error_cb=collect,
            allow_reconnect=False,
        )
        try:
            with pytest.raises(NatsTimeoutError):
                await hall.jetstream().publish(subjects.of(envelope), stored.data or b"", timeout=2)
            await hall.flush()
        finally:
            await hall.close()
        assert any("permissions violation" in error for error in errors)
    finally:
        server.stop()
