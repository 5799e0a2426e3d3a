"""A dead letter of routing replayed once its cause is fixed: the case it names is created once,
whatever is replayed or redelivered after (real PostgreSQL and nats-server)."""

from __future__ import annotations

from typing import Any

import nats
import pytest
from sqlmodel import col, select

from daiban_contracts.catalogue import Tier
from daiban_contracts.subjects import Subjects
from daiban_routing.models import Case, OrgUnit
from tests.integration.routing.helpers import (
    COUNTY,
    JIANGSHAN,
    accept,
    accepted,
    bearer,
    item,
    keyed,
    route_when,
    seeded_routing,
)
from tests.servers import Network, eventually

pytestmark = pytest.mark.integration

# A well-formed village code the directory does not have (yet).
NEW_VILLAGE = "370285101201"


async def test_a_case_parked_for_an_unknown_village_applies_once_after_the_directory_learns_it(
    network: Network,
) -> None:
    async with seeded_routing(network) as (settings, routing):
        supervisor = bearer(settings, f"supervisor@{JIANGSHAN}", "supervisor", JIANGSHAN)
        number, payload = accepted(item(Tier.township, "township.civil_affairs"), at=NEW_VILLAGE)
        event = await accept(settings, payload)

        async def listed() -> dict[str, Any] | None:
            response = await routing.client.get(
                "/v1/dead-letters", params={"status": "open"}, headers=supervisor
            )
            assert response.status_code == 200, response.text
            found = [d for d in response.json()["items"] if d["event_id"] == event.id]
            return found[0] if found else None

        letter = await eventually(listed, within=15)
        assert isinstance(letter, dict) and NEW_VILLAGE in letter["reason"] and "目录" in letter["reason"]
        url = f"/v1/dead-letters/{letter['id']}/replay"

        # Not fixed yet: it fails again, the same way.
        failed = await routing.client.post(url, headers=keyed(supervisor))
        assert failed.status_code == 409 and "目录" in failed.json()["reason"]

        # The cause fixed: the directory learns the village.
        async with routing.runtime.uow() as uow:
            uow.session.add(OrgUnit(code=NEW_VILLAGE, name="新设村", tier="village", parent_code=JIANGSHAN))
            await uow.commit()
        replayed = await routing.client.post(url, headers=keyed(supervisor))
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["outcome"] == "applied"
        assert replayed.json()["dead_letter"]["replay_attempts"] == 2

        again = await routing.client.post(url, headers=keyed(supervisor))
        assert again.status_code == 409 and again.json()["type"] == "/problems/dead-letter-settled"
        # The same event again (under another message id, past JetStream's deduplication): the
        # consumer's inbox has it from the replay, so it changes nothing.
        nc = await nats.connect(settings.nats_url)
        try:
            wire = Subjects(settings.subject_root).of(event)
            await nc.jetstream().publish(wire, event.to_bytes(), headers={"Nats-Msg-Id": event.id + "-again"})
        finally:
            await nc.close()
        labels = {"consumer": letter["consumer"], "type": event.type, "outcome": "duplicate"}

        async def skipped() -> bool:
            value = routing.runtime.metrics.registry.get_sample_value("events_consumed_total", labels)
            return (value or 0) >= 1

        await eventually(skipped, within=15)
        admin = bearer(settings, f"county-admin@{COUNTY}", "admin", COUNTY)
        await route_when(routing.client, admin, number, lambda route: route["case_number"] == number)
        async with routing.runtime.uow() as uow:
            cases = (await uow.session.exec(select(Case).where(col(Case.case_number) == number))).all()
        assert len(cases) == 1
