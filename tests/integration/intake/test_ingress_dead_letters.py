"""What a township system pushed over NATS and intake dead-lettered, replayed after correction
through the dead-letter API: it applies once, through intake's command, with the system as actor."""

from __future__ import annotations

from typing import Any

import pytest

from daiban_common.auth import Role
from daiban_contracts.ingress import system_actor, system_source
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import TOWNSHIP, bearer, emitted, keyed
from tests.integration.intake.test_ingress import (
    SYSTEM,
    _parked,
    _publish_ingress,
    _register,
    _status_becomes,
    _supplemented,
    _waiting_for_supplement,
)

pytestmark = pytest.mark.integration


async def test_a_pushed_event_dead_lettered_for_its_source_applies_once_when_replayed_corrected(
    intake: Intake,
) -> None:
    await _register(intake)
    number = await _waiting_for_supplement(intake)
    wrong_source = _supplemented(number, source="/daiban/n370285101000/intake")
    await _publish_ingress(intake, wrong_source)
    await _parked(intake, wrong_source.id)

    supervisor = bearer(intake.settings, Role.supervisor, org=TOWNSHIP)
    listed = await intake.client.get(
        "/v1/dead-letters", params={"status": "open", "type": wrong_source.type}, headers=supervisor
    )
    assert listed.status_code == 200, listed.text
    [letter] = [d for d in listed.json()["items"] if d["event_id"] == wrong_source.id]
    assert "事件来源应为/systems/jiangshan-hall" in letter["reason"]
    assert f".ingress.{SYSTEM}." in letter["nats_subject"]

    # Corrected: the source the system should have claimed, the same event id.
    corrected = wrong_source.model_copy(update={"source": system_source(SYSTEM)})
    url = f"/v1/dead-letters/{letter['id']}/replay"
    body: dict[str, Any] = {"envelope": corrected.model_dump(mode="json")}
    replayed = await intake.client.post(url, json=body, headers=keyed(supervisor))
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["outcome"] == "applied"
    await _status_becomes(intake, number, "in_review")
    [event] = await emitted(intake.runtime, "daiban.case.supplemented.v1")
    # Through intake's command, with the system the subject names as actor (not the person).
    assert event.actor == system_actor(SYSTEM)

    again = await intake.client.post(url, json=body, headers=keyed(supervisor))
    assert again.status_code == 409
    shown = (await intake.client.get(f"/v1/dead-letters/{letter['id']}", headers=supervisor)).json()
    assert shown["replayed_envelope"]["source"] == system_source(SYSTEM)
    assert shown["envelope"]["source"] == "/daiban/n370285101000/intake"
    [audited] = await emitted(intake.runtime, "daiban.deadletter.replayed.v1")
    assert audited.actor == f"supervisor-{TOWNSHIP}"
    assert audited.data["outcome"] == "applied" and audited.data["corrected"] is True
    assert len(await emitted(intake.runtime, "daiban.case.supplemented.v1")) == 1
