"""Importing org units from China's statistical division codes (统计用区划代码).

Two sources are understood:
- a compact CSV `code,name,level,parent_code` with 12-digit codes (the project's
  `data/divisions/seed-counties.csv`, which holds the five demo counties);
- the national files of the 2023 edition (`areas.csv`, `streets.csv`, `villages.csv.xz` in one
  folder, 6/9/12-digit codes), which are too large to commit: point `read_national` at a copy.
Either way, `import_divisions` upserts one county with its townships and villages, each with a
default service point (centre or point) that the county then edits through the API.
"""

from __future__ import annotations

import csv
import lzma
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_routing.models import OrgUnit

WEEKDAY_HOURS = "法定工作日 9:00—12:00，13:30—17:00"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    tier: Tier
    parent_code: str | None


def read_seed_csv(path: Path, county: str) -> list[Division]:
    """The county `county` (12 digits) and everything below it, from a `code,name,level,parent_code` CSV."""
    code = OrgCode.parse(county)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            Division(r["code"], r["name"], Tier(r["level"]), r["parent_code"] or None)
            for r in csv.DictReader(handle)
            if r["code"].startswith(code.county6)
        ]
    if not any(r.code == code.value for r in rows):
        raise ValueError(f"{path}中没有县级单位{code.value}")
    return rows


def _rows(handle: IO[str]) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(handle)


def read_national(folder: Path, county: str) -> list[Division]:
    """The county from the national 2023 files (areas.csv, streets.csv, villages.csv.xz)."""
    code = OrgCode.parse(county)
    six = code.county6
    with (folder / "areas.csv").open(encoding="utf-8", newline="") as handle:
        area = next((r for r in _rows(handle) if r["code"] == six), None)
    if area is None:
        raise ValueError(f"{folder}/areas.csv中没有县级单位{six}")
    found = [Division(code.value, area["name"], Tier.county, None)]
    with (folder / "streets.csv").open(encoding="utf-8", newline="") as handle:
        found += [
            Division(r["code"] + "000", r["name"], Tier.township, code.value)
            for r in _rows(handle)
            if r["areaCode"] == six
        ]
    with lzma.open(folder / "villages.csv.xz", "rt", encoding="utf-8", newline="") as handle:
        found += [
            Division(r["code"], r["name"], Tier.village, r["streetCode"] + "000")
            for r in _rows(handle)
            if r["areaCode"] == six
        ]
    return found


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
