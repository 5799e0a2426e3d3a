"""The demo directory: Laixi (370285) with all its townships and villages, their departments,
windows and staff with AB posts: spelled out for the county, 姜山镇, 夏格庄镇 and one village point,
from templates (templates.py) for every other township and village.

Idempotent: running it again changes nothing. Phone numbers and addresses are illustrative.
The staff ids `county-clerk`, `county-approver`, `county-supervisor`, `county-admin`,
`township-clerk` and `village-agent` match the ready-made dev tokens that `daiban run` prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from daiban_common.orgunits import CachedKeySet
from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork
from daiban_routing.context import RoutingContext
from daiban_routing.handlers.directory_events import org_units_published, publish_org_units, publish_staff
from daiban_routing.handlers.entries import upsert_department, upsert_staff, upsert_window
from daiban_routing.models import OrgUnit
from daiban_routing.schemas.directory import DepartmentIn, StaffIn, WindowIn
from daiban_routing.seed.divisions import import_divisions, read_seed_csv
from daiban_routing.seed.templates import fill_from_templates
from daiban_routing.settings import RoutingSettings

DEMO = Path(__file__).with_name("directory.json")
# services/routing/daiban_routing/seed/__init__.py -> the project root's data/divisions/
PROJECT_DIVISIONS = Path(__file__).resolve().parents[4] / "data" / "divisions" / "seed-counties.csv"


def divisions_csv(settings: RoutingSettings) -> Path:
    return settings.divisions_csv or PROJECT_DIVISIONS


async def seed_directory(uow: UnitOfWork, csv_path: Path) -> None:
    demo: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    async with uow:
        session = uow.session
        changed = await import_divisions(session, read_seed_csv(csv_path, demo["county"]))
        await session.flush()
        # Every service learns the county's units from this event (they refuse tokens of others);
        # a directory seeded before the event existed publishes them once too.
        if changed or not await org_units_published(uow, demo["county"]):
            await publish_org_units(uow, demo["county"])
        for code, point in demo["service_points"].items():
            org = await session.get(OrgUnit, code)
            assert org is not None, code
            org.point_name, org.address, org.phone, org.opening_hours = (
                point["name"],
                point["address"],
                point["phone"],
                point["opening_hours"],
            )
            session.add(org)
        for row in demo["departments"]:
            await upsert_department(session, DepartmentIn.model_validate(row))
        await session.flush()
        # Windows name their A and B posts, staff name their windows: people first, then windows,
        # then the people's windows.
        for row in demo["staff"]:
            await upsert_staff(session, StaffIn.model_validate({**row, "windows": []}))
        await session.flush()
        for row in demo["windows"]:
            await upsert_window(session, WindowIn.model_validate(row))
        await session.flush()
        for row in demo["staff"]:
            await upsert_staff(session, StaffIn.model_validate(row))
        await session.flush()
        spelled_out = {row["org"] for row in demo["departments"]}
        await fill_from_templates(session, demo["county"], demo["templates"], spelled_out)
        # Intake refuses staff actions of anyone the directory does not know: it learns who they
        # are from this event (nothing when the seed changed no one).
        await publish_staff(uow, demo["county"])
        await uow.commit()


async def seed(runtime: ServiceRuntime) -> None:
    """`ServiceSpec.seed`: needs only the database (the CLI seeds before the bus is up)."""
    context = cast(RoutingContext, runtime.context)
    await seed_directory(runtime.uow(), divisions_csv(context.settings))
    known = runtime.known_orgs
    if isinstance(known, CachedKeySet):
        known.invalidate()
