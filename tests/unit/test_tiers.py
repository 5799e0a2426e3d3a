"""`daiban run --tiers`: the nodes it plans from the county's settings, each on its own server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.tiers import (
    DEFAULT_TOWNSHIPS,
    PORT_OFFSET,
    NatsNetwork,
    nats_network,
    plan_tiers,
    tiers_home,
)

SERVICES = list(discover_services().values())


def county_settings(tmp_path: Path) -> Settings:
    return Settings(
        org="370285000000",
        var_dir=tmp_path / "var",
        database_url="postgresql://postgres@127.0.0.1:55432/daiban",
    )


def network(settings: Settings) -> NatsNetwork:
    return nats_network(settings, DEFAULT_TOWNSHIPS)


def test_county_and_township_nodes_each_with_a_server_and_database_of_its_own(tmp_path: Path) -> None:
    settings = county_settings(tmp_path)
    servers = network(settings)
    county, *townships = plan_tiers(settings, DEFAULT_TOWNSHIPS, SERVICES, servers)
    assert county.settings.child_nodes == list(DEFAULT_TOWNSHIPS)
    assert county.services == tuple(spec.name for spec in SERVICES)
    assert county.env["DAIBAN_CHILD_NODES"] == ",".join(DEFAULT_TOWNSHIPS)
    # Each county service logs in to the hub as its own user; no password is in the config.
    assert county.settings.nats_url == "nats://127.0.0.1:54222"
    assert county.env["DAIBAN_NATS_CREDENTIALS"] == str(county.settings.nats_credentials)
    hub_config = servers.servers[settings.org].config_text()
    assert "password: $DAIBAN_NATS_PASSWORD_N370285000000_ROUTING" in hub_config
    assert county.settings.nats_credentials is not None
    credential = json.loads((county.settings.nats_credentials / "routing.json").read_text())
    assert credential["user"] == "n370285000000-routing" and credential["password"] not in hub_config
    urls = {county.settings.nats_url}
    for n, (town, node) in enumerate(zip(DEFAULT_TOWNSHIPS, townships, strict=True), start=1):
        assert node.services == tuple(spec.name for spec in SERVICES if spec.township)
        assert "catalogue" not in node.services  # the catalogue stays at the county
        assert node.settings.org == town and node.settings.child_nodes == []
        assert node.settings.database_url == f"postgresql://postgres@127.0.0.1:55432/daiban_{town}"
        assert node.create_database == f"daiban_{town}"
        assert node.settings.nats_url == f"nats://127.0.0.1:{54222 + n}"  # its own leaf server
        ports = [node.settings.service_port(spec) for spec in SERVICES]
        assert ports == [county.settings.service_port(spec) + n * PORT_OFFSET for spec in SERVICES]
        assert node.settings.node_name != county.settings.node_name  # durable consumers of their own
        leaf = servers.servers[town]
        assert f"domain: t{town[:9]}" in leaf.config_text() and "$DAIBAN_HUB_URL" in leaf.config_text()
        urls.add(node.settings.nats_url)
    assert len(urls) == 3
    # Passwords are made once and kept, readable by their owner only.
    again = network(settings).passwords()
    assert again == servers.passwords() and len(set(again.values())) == 2
    assert all((tmp_path / "var" / "nats" / "secrets" / user).stat().st_mode & 0o077 == 0 for user in again)


def test_the_tiers_keep_their_data_apart_from_make_run(tmp_path: Path) -> None:
    settings = county_settings(tmp_path)
    assert tiers_home(settings).var_dir == settings.var_dir / "tiers"


@pytest.mark.parametrize("township", ["370285000000", "370285101201", "370283101000"])
def test_a_township_node_must_be_a_township_of_the_county(township: str, tmp_path: Path) -> None:
    settings = county_settings(tmp_path)
    with pytest.raises(SystemExit, match="not a township"):
        plan_tiers(settings, [township], SERVICES, network(settings))
