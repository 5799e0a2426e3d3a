"""China's statistical division codes (统计用区划代码, 2023): a county, its townships and villages.

The repository ships them in `data/divisions/` (README there): `seed-counties.csv`, the five
counties of the source articles as `code,name,level,parent_code` (read first: it is small), and
`china-2023/` with every county of China (`areas.csv`, `streets.csv.xz`, `villages.csv.xz`,
6/9/12-digit codes). Routing builds a county's directory from them and the catalogue names its
demo departments after the county, so both read them here. An installed node (an image) has no
checkout: it names the folder with `DAIBAN_DIVISIONS_DIR`.
"""

from __future__ import annotations

import csv
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from daiban_contracts.orgcodes import OrgCode, Tier

__all__ = [
    "DEMO_COUNTY",
    "Division",
    "county_name",
    "divisions_dir",
    "read_county",
    "read_national",
    "read_seed_csv",
    "relocate_demo",
]

SEED_CSV = "seed-counties.csv"
NATIONAL = "china-2023"
# libs/common/daiban_common/divisions.py -> the checkout's data/divisions/
_CHECKOUT = Path(__file__).resolve().parents[3] / "data" / "divisions"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    tier: Tier
    parent_code: str | None


def divisions_dir(configured: Path | None) -> Path:
    """The folder holding the division data: the configured one, else the checkout's."""
    folder = configured or _CHECKOUT
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no division data in {folder}: set DAIBAN_DIVISIONS_DIR to a copy of data/divisions"
        )
    return folder


def read_county(folder: Path, county: str) -> list[Division]:
    """The county (12 digits) with its townships and villages: from the seed CSV if it has it,
    else from the national files."""
    code = OrgCode.parse(county)
    if code.tier is not Tier.county:
        raise ValueError(f"{code.value}不是县级区划代码（应为6位县级代码加6个0）")
    seed = folder / SEED_CSV
    if seed.exists():
        rows = read_seed_csv(seed, code.value)
        if rows:
            return rows
    return read_national(folder, code.value)


def read_seed_csv(path: Path, county: str) -> list[Division]:
    """The county and everything below it from a `code,name,level,parent_code` CSV (none if absent)."""
    code = OrgCode.parse(county)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            Division(r["code"], r["name"], Tier(r["level"]), r["parent_code"] or None)
            for r in csv.DictReader(handle)
            if r["code"].startswith(code.county6)
        ]
    return rows if any(r.code == code.value for r in rows) else []


def _open(path: Path) -> IO[str]:
    """`name.csv` or, when only that exists, `name.csv.xz`."""
    if path.exists():
        return path.open(encoding="utf-8", newline="")
    return lzma.open(path.with_name(path.name + ".xz"), "rt", encoding="utf-8", newline="")


def _rows(handle: IO[str]) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(handle)


def county_name(folder: Path, county: str) -> str:
    """The county's name (宜城市) from the national list of counties."""
    six = OrgCode.parse(county).county6
    with _open(folder / NATIONAL / "areas.csv") as handle:
        area = next((r for r in _rows(handle) if r["code"] == six), None)
    if area is None:
        raise ValueError(f"全国区划数据中没有县级单位{six}")
    return area["name"]


def read_national(folder: Path, county: str) -> list[Division]:
    """The county from the national files (`china-2023/` in `folder`: areas.csv, streets.csv[.xz],
    villages.csv[.xz])."""
    code = OrgCode.parse(county)
    six = code.county6
    found = [Division(code.value, county_name(folder, code.value), Tier.county, None)]
    with _open(folder / NATIONAL / "streets.csv") as handle:
        found += [
            Division(r["code"] + "000", r["name"], Tier.township, code.value)
            for r in _rows(handle)
            if r["areaCode"] == six
        ]
    with _open(folder / NATIONAL / "villages.csv") as handle:
        found += [
            Division(r["code"], r["name"], Tier.village, r["streetCode"] + "000")
            for r in _rows(handle)
            if r["areaCode"] == six
        ]
    return found


# The county the demo data (directory, catalogue) is written for.
DEMO_COUNTY = "370285000000"
DEMO_COUNTY_NAME = "莱西市"
_DEMO_PREFECTURE = "青岛市"


def relocate_demo(text: str, county: str, name: str) -> str:
    """Demo data written for Laixi, moved to `county` (12 digits) named `name`: codes and names.

    Laixi's natural resources office is a branch of its prefecture's bureau; elsewhere the demo
    gives the county a bureau of its own, and an authority of the prefecture becomes 上级 (the one
    above), rather than guess the prefecture.
    """
    if county == DEMO_COUNTY:
        return text
    short = DEMO_COUNTY_NAME.removesuffix("市")
    return (
        text.replace(f"{_DEMO_PREFECTURE}自然资源和规划局{short}分局", f"{name}自然资源和规划局")
        .replace(_DEMO_PREFECTURE, "上级")
        .replace(DEMO_COUNTY_NAME, name)
        .replace(DEMO_COUNTY[:6], county[:6])
    )
