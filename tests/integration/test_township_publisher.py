"""docs/examples/township_publisher.py, run as a township system runs it, against a real nats-server.

The stream is created as the suite's services create it; the example publishes one supplement
with nothing but daiban_contracts and nats-py, to its system's ingress subject; what JetStream
stored reads back as our envelope.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import nats
import pytest

from daiban_common.bus import ensure_stream
from daiban_contracts.case import CaseSupplemented
from daiban_contracts.envelope import Envelope
from daiban_contracts.subjects import Subjects
from tests.servers import Servers

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "township_publisher.py"
CASE = "370285101294-20260105-0007"


async def test_the_township_example_publishes_a_supplement_we_can_read(servers: Servers) -> None:
    root = f"t{uuid.uuid4().hex[:10]}"
    subjects, stream = Subjects(root=root), root.upper()
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, stream, subjects.stream)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            *("--nats", servers.nats_url, "--root", root, "--case", CASE),
            *("--material", "M01", "--material", "M03"),
            env=env,
            cwd=EXAMPLE.parent,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, output.decode()
        assert f"{stream} #1" in output.decode()

        stored = await js.get_msg(stream, 1)
    finally:
        await nc.close()
    envelope = Envelope.from_bytes(stored.data or b"")
    assert stored.subject == f"{root}.370285.101.294.ingress.jiangshan-hall.case.supplemented"
    assert stored.subject == subjects.ingress(envelope.org, "jiangshan-hall", envelope.type)
    assert envelope.source == "/systems/jiangshan-hall"
    assert stored.headers is not None and stored.headers["Nats-Msg-Id"] == envelope.id
    payload = envelope.payload()
    assert isinstance(payload, CaseSupplemented)
    assert (envelope.subject, payload.case_number, payload.material_codes) == (CASE, CASE, ("M01", "M03"))
    assert payload.recorded_by.org == "370285101000"
