"""Filling the demo directory from templates: every township and village gets its offices and people.

The demo JSON spells out the county, 姜山镇 and 夏格庄镇 by hand; every other township and every
village of the county gets the departments, windows and AB posts of a template, with staff ids
derived from the org code (`t104-w01-a`, `v101295-agent`, `v101295-a`) and reproducible made-up
names. Only what is missing is created, so an edit made through the API is never overwritten and a
second run reads three tables and writes nothing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import OrgCode
from daiban_routing.models import Department, OrgUnit, Staff, Window

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志强海燕春梅丹凤林鹏"
    "飞文斌晓东立新永庆淑珍佳慧德胜翠云宝山"
)


def made_up_name(seed: str) -> str:
    """A plausible two- or three-character name, the same for the same seed."""
    h = zlib.crc32(seed.encode())
    surname = _SURNAMES[h % len(_SURNAMES)]
    first = _GIVEN[(h >> 8) % len(_GIVEN)]
    if (h >> 20) % 3 == 0:
        return surname + first
    return surname + first + _GIVEN[(h >> 14) % len(_GIVEN)]


@dataclass
class Missing:
    departments: list[Department] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    # Appended to every generated person's name (a county without staffing of its own: 演示).
    mark: str = ""


def _short(org: OrgCode) -> str:
    return f"t{org.value[6:9]}" if org.tier.value == "township" else f"v{org.value[6:12]}"


def _person(
    staff_id: str, role: str, org: str, windows: list[str], known: set[str], missing: Missing
) -> None:
    if staff_id not in known:
        name = made_up_name(staff_id) + missing.mark
        missing.staff.append(Staff(id=staff_id, name=name, role=role, org=org, windows=windows))


def _plan_org(
    unit: OrgUnit,
    template: dict[str, Any],
    departments: set[tuple[str, str]],
    windows: set[tuple[str, str]],
    staff: set[str],
    missing: Missing,
) -> None:
    org = OrgCode.parse(unit.code)
    short = _short(org)
    for row in template["departments"]:
        if (unit.code, row["code"]) not in departments:
            name = row["name"].format(name=unit.name)
            missing.departments.append(
                Department(id=str(uuid7()), org=unit.code, code=row["code"], name=name)
            )
    village = org.tier.value == "village"
    for row in template["windows"]:
        number = row["number"]
        posts = (f"{short}-a", f"{short}-b") if village else (f"{short}-w{number}-a", f"{short}-w{number}-b")
        for staff_id, role in zip(posts, ("clerk", "approver"), strict=True):
            _person(staff_id, role, unit.code, [number], staff, missing)
        if (unit.code, number) not in windows:
            missing.windows.append(
                Window(
                    id=str(uuid7()),
                    org=unit.code,
                    number=number,
                    name=row["name"],
                    departments=list(row["departments"]),
                    a_post=posts[0],
                    b_post=posts[1],
                )
            )
    if template.get("agents"):
        # The village agent (代办员) accepts applications at the point; the A and B posts decide.
        windows_here = [row["number"] for row in template["windows"]]
        _person(f"{short}-agent", "agent", unit.code, windows_here, staff, missing)
    supervisor = template.get("supervisor")
    if supervisor and f"{short}-supervisor" not in staff:
        missing.staff.append(
            Staff(
                id=f"{short}-supervisor",
                name=supervisor.format(name=unit.name) + missing.mark,
                role="supervisor",
                org=unit.code,
                windows=[],
            )
        )


async def fill_from_templates(
    session: AsyncSession, county: str, templates: dict[str, Any], spelled_out: set[str], *, mark: str = ""
) -> Missing:
    """Add what the templates call for at every township and village not in `spelled_out`."""
    prefix = OrgCode.parse(county).subtree_prefix
    units = list(await session.exec(select(OrgUnit).where(OrgUnit.code.startswith(prefix))))
    departments = {(d.org, d.code) for d in await session.exec(select(Department))}
    windows = {(w.org, w.number) for w in await session.exec(select(Window))}
    staff = set(await session.exec(select(Staff.id)))
    missing = Missing(mark=mark)
    for unit in sorted(units, key=lambda u: u.code):
        template = templates.get(unit.tier)
        if template is None or unit.code in spelled_out:
            continue
        _plan_org(unit, template, departments, windows, staff, missing)
    # People first (windows name them as A and B posts), then departments, then windows.
    session.add_all(missing.staff)
    session.add_all(missing.departments)
    await session.flush()
    session.add_all(missing.windows)
    return missing
