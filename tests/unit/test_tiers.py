"""`daiban run --tiers`: the two nodes it plans from the county's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.tiers import PORT_OFFSET, plan_tiers, tiers_home

SERVICES = list(discover_services().values())


def county_settings() -> Settings:
    return Settings(
        org="370285000000",
        var_dir=Path("var"),
        database_url="postgresql://postgres@127.0.0.1:55432/daiban",
        nats_url="nats://127.0.0.1:54222",
    )


def test_county_and_township_nodes_apart_on_shared_servers() -> None:
    county, township = plan_tiers(county_settings(), "370285101000", SERVICES)
    assert county.settings.child_nodes == ["370285101000"]
    assert county.services == tuple(spec.name for spec in SERVICES)
    assert township.services == tuple(spec.name for spec in SERVICES if spec.township)
    assert "catalogue" not in township.services  # the catalogue stays at the county
    assert township.settings.org == "370285101000" and township.settings.child_nodes == []
    assert township.settings.database_url == "postgresql://postgres@127.0.0.1:55432/daiban_370285101000"
    assert township.create_database == "daiban_370285101000"
    assert township.settings.nats_url == county.settings.nats_url
    ports = [township.settings.service_port(spec) for spec in SERVICES]
    assert ports == [county.settings.service_port(spec) + PORT_OFFSET for spec in SERVICES]
    assert len(set(ports)) == len(SERVICES)
    assert county.settings.node_name != township.settings.node_name  # durable consumers of their own
    assert county.env["DAIBAN_CHILD_NODES"] == "370285101000"
    assert township.env["DAIBAN_ORG"] == "370285101000" and township.env["DAIBAN_INTAKE_PORT"] == "8011"


def test_the_tiers_keep_their_data_apart_from_make_run() -> None:
    assert tiers_home(county_settings()).var_dir == Path("var") / "tiers"


@pytest.mark.parametrize("township", ["370285000000", "370285101201", "370283101000"])
def test_the_township_must_be_a_township_of_the_county(township: str) -> None:
    with pytest.raises(SystemExit, match="not a township"):
        plan_tiers(county_settings(), township, SERVICES)
