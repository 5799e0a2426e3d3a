"""The demo directory of the node's county: its townships and villages from the national division
data (`daiban_common.divisions`), and their departments, windows and staff with AB posts.

Laixi (370285) is spelled out by hand (`directory.json`): the county, 姜山镇, 夏格庄镇 and one
village point; every other township and village comes from templates (templates.py). Any other
county of China gets the same county centre (Laixi's, renamed) and the templates everywhere below
it: generated staffing, every person's name marked 演示 (demo), until the county imports its own
by CSV (`POST /v1/staff/import`, docs/operations.md).

Idempotent: running it again changes nothing. Phone numbers and addresses are illustrative.
The staff ids `county-clerk`, `county-approver`, `county-supervisor`, `county-admin`,
`township-clerk` and `village-agent` match the ready-made dev tokens that `daiban run` prints
(the last two are Laixi's; other counties' are `t<township>-w01-a` and `v<township><village>-agent`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daiban_common.divisions import county_name, divisions_dir, read_county, relocate_demo
from daiban_common.orgunits import CachedKeySet
from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork
from daiban_contracts.orgcodes import OrgCode
from daiban_routing.handlers.directory_events import org_units_published, publish_org_units, publish_staff
from daiban_routing.handlers.entries import upsert_department, upsert_staff, upsert_window
from daiban_routing.models import OrgUnit
from daiban_routing.schemas.directory import DepartmentIn, StaffIn, WindowIn
from daiban_routing.seed.divisions import import_divisions
from daiban_routing.seed.templates import fill_from_templates

DEMO = Path(__file__).with_name("directory.json")
# What a generated person's name carries, so nobody mistakes the demo staffing for real people.
DEMO_MARK = "（演示）"


def demo_directory(county: str, name: str) -> dict[str, Any]:
    """The demo directory for `county` (12 digits) named `name`: Laixi's own, or its county
    centre moved to `county` (renamed, people marked as demo, no address or phone of Laixi's)."""
    text = DEMO.read_text(encoding="utf-8")
    laixi: dict[str, Any] = json.loads(text)
    if county == laixi["county"]:
        return laixi
    moved: dict[str, Any] = json.loads(relocate_demo(text, county, name))

    def at_county(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row for row in rows if row["org"] == county]

    return {
        "county": county,
        "service_points": {},
        "departments": at_county(moved["departments"]),
        "windows": at_county(moved["windows"]),
        "staff": [{**row, "name": row["name"] + DEMO_MARK} for row in at_county(moved["staff"])],
        "templates": moved["templates"],
        "mark": DEMO_MARK,
    }


async def seed_directory(uow: UnitOfWork, folder: Path, county: str, *, staffing: bool = True) -> int:
    """Load `county`'s units from the division data in `folder` and, with `staffing`, its demo
    directory; publish what changed. Returns how many units were added or changed."""
    divisions = read_county(folder, county)
    demo = demo_directory(county, county_name(folder, county))
    async with uow:
        session = uow.session
        changed = await import_divisions(session, divisions)
        await session.flush()
        # Every service learns the county's units from this event (they refuse tokens of others);
        # a directory seeded before the event existed publishes them once too.
        if changed or not await org_units_published(uow, demo["county"]):
            await publish_org_units(uow, demo["county"])
        if not staffing:
            await uow.commit()
            return changed
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
        await fill_from_templates(
            session, demo["county"], demo["templates"], spelled_out, mark=demo.get("mark", "")
        )
        # Intake refuses staff actions of anyone the directory does not know: it learns who they
        # are from this event (nothing when the seed changed no one).
        await publish_staff(uow, demo["county"])
        await uow.commit()
    return changed


async def seed(runtime: ServiceRuntime) -> None:
    """`ServiceSpec.seed`: needs only the database (the CLI seeds before the bus is up)."""
    settings = runtime.settings
    county = OrgCode.parse(settings.org).county.value
    await seed_directory(runtime.uow(), divisions_dir(settings.divisions_dir), county)
    known = runtime.known_orgs
    if isinstance(known, CachedKeySet):
        known.invalidate()
