"""A township node whose county link refuses events: the relay holds that lane, keeps publishing
the node's own events, and carries the held ones once the county's stream is there."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from daiban_common import bus
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import application, bearer
from tests.servers import eventually

pytestmark = pytest.mark.integration


async def test_a_refused_county_lane_waits_and_the_own_stream_does_not(intake: Intake) -> None:
    runtime = intake.runtime
    outbox = runtime.tables.outbox
    own = f"{intake.settings.subject_root}.{intake.settings.org[:6]}.{intake.settings.org[6:9]}."

    async def pending() -> tuple[int, int]:
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.subject).where(outbox.c.published_at.is_(None)))).all()
        return sum(r.subject.startswith(own) for r in rows), sum(not r.subject.startswith(own) for r in rows)

    headers = bearer(intake.settings) | {"Idempotency-Key": str(uuid.uuid4())}
    response = await intake.client.post("/v1/applications", json=application(), headers=headers)
    assert response.status_code == 201, response.text

    async def only_the_county_copy_waits() -> bool:
        own_pending, county_pending = await pending()
        return own_pending == 0 and county_pending > 0

    await eventually(only_the_county_copy_waits)
    # Another acceptance while the lane is held: its own event goes out at once all the same.
    headers = bearer(intake.settings) | {"Idempotency-Key": str(uuid.uuid4())}
    response = await intake.client.post("/v1/applications", json=application(), headers=headers)
    assert response.status_code == 201, response.text
    await eventually(only_the_county_copy_waits)

    county = runtime.topology.parent_node
    assert county is not None and runtime.js is not None
    name = intake.settings.stream_name.removesuffix(f"_{intake.settings.org[:9]}")
    await bus.ensure_stream(runtime.js, name, runtime.subjects.node_stream(county, [intake.settings.org]))

    async def none_waits() -> bool:
        return await pending() == (0, 0)

    await eventually(none_waits, within=15)
