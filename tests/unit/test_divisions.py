"""The division data the repository ships: every county of the source articles, and any other."""

from __future__ import annotations

from collections import Counter

import pytest

from daiban_catalogue.seed.catalogue import load_demo_catalogue
from daiban_common.divisions import (
    SEED_CSV,
    county_name,
    divisions_dir,
    read_county,
    read_national,
    read_seed_csv,
    relocate_demo,
)
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_routing.seed import DEMO_MARK, demo_directory

FOLDER = divisions_dir(None)
# The counties of the source articles, with their townships (乡镇街道) in the 2023 codes.
ARTICLES = {
    "370285000000": ("莱西市", 11),
    "610902000000": ("汉滨区", 28),
    "420684000000": ("宜城市", 15),
    "350521000000": ("惠安县", 20),
    "530921000000": ("凤庆县", 13),
}


@pytest.mark.parametrize("county", ARTICLES)
def test_every_county_of_the_articles_loads_with_its_townships_and_villages(county: str) -> None:
    name, townships = ARTICLES[county]
    units = read_county(FOLDER, county)
    tiers = Counter(u.tier for u in units)
    assert tiers[Tier.county] == 1 and tiers[Tier.township] == townships and tiers[Tier.village] > townships
    assert county_name(FOLDER, county) == name
    codes = {u.code for u in units}
    # Every unit hangs below one of the county's: a tree, as routing's directory needs.
    assert all(u.parent_code in codes for u in units if u.tier is not Tier.county)
    assert all(OrgCode.parse(u.code).is_within(OrgCode.parse(county)) for u in units)


def test_the_seed_csv_agrees_with_the_national_files() -> None:
    county = "420684000000"
    seed = sorted(read_seed_csv(FOLDER / SEED_CSV, county), key=lambda u: u.code)
    assert seed == sorted(read_national(FOLDER, county), key=lambda u: u.code)


def test_a_county_outside_the_seed_csv_comes_from_the_national_files() -> None:
    assert read_seed_csv(FOLDER / SEED_CSV, "110101000000") == []
    units = read_county(FOLDER, "110101000000")
    assert units[0].name == "东城区" and any(u.name == "东华门街道" for u in units)


def test_an_unknown_or_non_county_code_is_refused() -> None:
    with pytest.raises(ValueError, match="没有县级单位370299"):
        read_county(FOLDER, "370299000000")
    with pytest.raises(ValueError, match="不是县级区划代码"):
        read_county(FOLDER, "420684101000")


def test_demo_data_moved_to_another_county_names_it_and_nothing_of_laixi() -> None:
    text = relocate_demo(
        "青岛市自然资源和规划局莱西分局；莱西市民政局；XK-1-370285000000-01", "420684000000", "宜城市"
    )
    assert text == "宜城市自然资源和规划局；宜城市民政局；XK-1-420684000000-01"
    assert relocate_demo("莱西市", "370285000000", "莱西市") == "莱西市"

    catalogue = load_demo_catalogue("420684000000", "宜城市")
    assert {d.implementing_org for d in catalogue.drafts} == {"420684000000"}
    assert all("莱西" not in d.name for d in catalogue.departments)

    directory = demo_directory("420684000000", "宜城市")
    assert {row["org"] for key in ("departments", "windows", "staff") for row in directory[key]} == {
        "420684000000"
    }
    assert all(row["name"].endswith(DEMO_MARK) for row in directory["staff"])
    assert directory["service_points"] == {}  # no Laixi address or phone elsewhere


def test_laixi_keeps_its_hand_made_directory() -> None:
    directory = demo_directory("370285000000", "莱西市")
    assert "370285101000" in {row["org"] for row in directory["departments"]}
    assert not any(row["name"].endswith(DEMO_MARK) for row in directory["staff"])
