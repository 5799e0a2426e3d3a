"""The declaration of a service: subscriptions' filters come from their handler tables, jobs run
on their own, ports come from the services themselves."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from daiban_common.consumer import Subscription, on
from daiban_common.jobs import JobRunner
from daiban_common.service import Job, discover_services
from daiban_common.settings import Settings
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import CaseAccepted, CaseSupplemented
from daiban_contracts.envelope import Envelope
from daiban_contracts.routing import CaseDecided
from daiban_contracts.subjects import CopyKind, Subjects

TOWNSHIP = "370285101000"


async def accepted(envelope: Envelope, payload: CaseAccepted, uow: UnitOfWork) -> None:
    return None


async def anything(envelope: Envelope, payload: object, uow: UnitOfWork) -> None:
    return None


def test_filters_are_derived_from_the_handler_table() -> None:
    subjects = Subjects("r")
    table = Subscription(name="cases", handlers=dict([on(CaseAccepted, accepted)]))
    assert table.filter_subjects(subjects, TOWNSHIP) == ["r.370285.101.*.case.accepted"]
    county = dataclasses.replace(table, within="370285000000")
    assert county.filter_subjects(subjects, TOWNSHIP) == ["r.370285.*.*.case.accepted"]
    catch_all = Subscription(name="log", default_handler=anything)
    assert catch_all.filter_subjects(subjects, TOWNSHIP) == ["r.370285.101.*.*.*"]
    # Copies addressed to this node, beside the events or instead of them.
    both = dataclasses.replace(county, copies=[CopyKind.countywide])
    assert both.filter_subjects(subjects, TOWNSHIP) == [
        "r.370285.*.*.case.accepted",
        "r.370285.101.000.copy.countywide.case.accepted",
    ]
    progress = Subscription(
        name="progress", handlers=dict([on(CaseDecided, anything)]), copies=[CopyKind.progress], events=False
    )
    assert progress.filter_subjects(subjects, TOWNSHIP) == ["r.370285.101.000.copy.progress.case.decided"]
    # A kind of copy never made of a class gets no filter.
    assert (
        dataclasses.replace(progress, copies=[CopyKind.published]).filter_subjects(subjects, TOWNSHIP) == []
    )
    # What outside systems push to their ingress subjects (any system), instead of the events.
    door = Subscription(
        name="ingress", handlers=dict([on(CaseSupplemented, anything)]), ingress=True, events=False
    )
    assert door.filter_subjects(subjects, TOWNSHIP) == ["r.370285.101.*.ingress.*.case.supplemented"]
    explicit = Subscription(name="x", handlers=dict([on(CaseAccepted, accepted)]), subjects=["r.a.>"])
    assert explicit.filter_subjects(subjects, TOWNSHIP) == ["r.a.>"]


def test_events_are_routed_by_payload_class() -> None:
    table = Subscription(name="cases", handlers=dict([on(CaseAccepted, accepted)]))
    other = Envelope.model_validate(
        {
            "id": "e",
            "type": CaseSupplemented.event_type,
            "source": "/t",
            "subject": "C1",
            "time": "2026-12-06T08:00:00+08:00",
            "org": TOWNSHIP,
            "data": {},
        }
    )
    assert table.route(other) is None  # not ours: acknowledged and skipped
    unknown = other.model_copy(update={"type": "daiban.case.unheard_of.v9"})
    assert Subscription(name="log", default_handler=anything).route(unknown) == (anything, None)


async def test_a_job_runs_on_its_tick_survives_a_failure_and_stops() -> None:
    runs: list[int] = []

    async def tick() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the first run fails")

    runner = JobRunner("svc", [Job(name="tick", every=0.01, run=tick)])
    runner.start()
    for _ in range(200):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    seen = len(runs)
    await asyncio.sleep(0.05)
    assert seen >= 3 and len(runs) == seen


async def test_a_job_at_start_runs_at_once_then_on_its_interval() -> None:
    runs: list[str] = []

    async def load() -> None:
        runs.append("load")

    runner = JobRunner("svc", [Job(name="load", every=3600, run=load, at_start=True)])
    runner.start()
    for _ in range(100):
        if runs:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert runs == ["load"]


def test_every_service_has_its_own_port_and_a_township_node_runs_some() -> None:
    specs = list(discover_services().values())
    assert len({spec.default_port for spec in specs}) == len(specs)
    assert [spec.order for spec in specs] == sorted(spec.order for spec in specs)
    assert any(spec.township for spec in specs) and not all(spec.township for spec in specs)


def test_ports_from_the_environment_for_any_service(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = next(iter(discover_services().values()))
    monkeypatch.setenv(f"DAIBAN_{spec.name.upper()}_PORT", "9123")
    monkeypatch.setenv("DAIBAN_EMBEDDED_PG_PORT", "9124")
    settings = Settings()
    assert settings.service_port(spec) == 9123
    assert settings.embedded_pg_port == 9124 and "embedded_pg" not in settings.ports
    assert Settings(ports={spec.name: 9200}).service_port(spec) == 9200  # explicit wins
