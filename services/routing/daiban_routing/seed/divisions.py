"""Importing org units from China's statistical division codes (统计用区划代码).

`daiban_common.divisions` reads a county with its townships and villages from the repository's
data (any county of China); `import_divisions` upserts them, each with a default service point
(centre or point) that the county then edits through the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.divisions import Division
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_routing.models import OrgUnit

WEEKDAY_HOURS = "法定工作日 9:00—12:00，13:30—17:00"


def _default_point(division: Division) -> tuple[str, str]:
    match division.tier:
        case Tier.county:
            return f"{division.name}政务服务中心", f"{division.name}政务服务中心大厅"
        case Tier.township:
            return f"{division.name}便民服务中心", f"{division.name}人民政府便民服务中心"
        case _:
            return f"{division.name}便民服务代办点", f"{division.name}办公场所"


async def import_divisions(session: AsyncSession, divisions: Iterable[Division]) -> int:
    """Upsert org units (names and parents follow the source; edited service points are kept).

    Returns how many units were added or changed (the caller then publishes the county's units).
    """
    count = 0
    for division in divisions:
        OrgCode.parse(division.code)  # refuse malformed codes before anything is written
        existing = await session.get(OrgUnit, division.code)
        if existing is None:
            point, address = _default_point(division)
            session.add(
                OrgUnit(
                    code=division.code,
                    name=division.name,
                    tier=division.tier.value,
                    parent_code=division.parent_code,
                    point_name=point,
                    address=address,
                    opening_hours=WEEKDAY_HOURS,
                )
            )
            count += 1
        elif (existing.name, existing.parent_code) != (division.name, division.parent_code):
            existing.name, existing.parent_code = division.name, division.parent_code
            session.add(existing)
            count += 1
    return count
