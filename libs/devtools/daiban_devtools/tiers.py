"""The nodes `daiban run` starts: one node hosting the whole county, or (`--tiers`) the county node
and one township node running separately on the same PostgreSQL server and nats-server.

A township node hosts its township and the villages below it; the county node hosts the county and
every other township, and leaves the township's cases to it (`DAIBAN_CHILD_NODES`). Each node has a
database of its own and its own durable consumers (named after `DAIBAN_NODE`). The catalogue is
authoritative at the county, so a township node runs intake, routing and audit only: its intake
keeps its replica of the catalogue from the county's `catalogue.item_published` events. Which
services a township node runs is each service's own `ServiceSpec.township`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from daiban_common.db import with_database
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import OrgCode, Tier

DEFAULT_TOWNSHIP = "370285101000"  # 姜山镇, whose staff the demo directory holds
# A township node's ports are the county node's plus this (8011-8014 beside 8001-8004).
PORT_OFFSET = 10


@dataclass(frozen=True)
class Node:
    label: str
    settings: Settings  # resolved: database and NATS URLs filled in
    services: tuple[str, ...]
    # What the node's `daiban serve` children get on top of the parent's environment.
    env: dict[str, str] = field(default_factory=dict)
    # Databases to create on the server before migrating (the county's exists already).
    create_database: str | None = None


def node_env(settings: Settings) -> dict[str, str]:
    """The `DAIBAN_*` variables that make a `daiban serve` process a service of this node."""
    services = discover_services().values()
    return {
        "DAIBAN_ORG": settings.org,
        "DAIBAN_NODE": settings.node_name,
        "DAIBAN_CHILD_NODES": ",".join(settings.child_nodes),
        "DAIBAN_DATABASE_URL": settings.database_url,
        "DAIBAN_NATS_URL": settings.nats_url,
        "DAIBAN_VAR_DIR": str(settings.var_dir),
        **{f"DAIBAN_{spec.name.upper()}_PORT": str(settings.service_port(spec)) for spec in services},
    }


def tiers_home(settings: Settings) -> Settings:
    """The tiers keep their servers' data apart from `make run`'s (var/tiers/), so neither replays
    the other's events into consumers that never saw them."""
    return settings.model_copy(update={"var_dir": settings.var_dir / "tiers"})


def plan_tiers(settings: Settings, township: str, services: Sequence[ServiceSpec]) -> list[Node]:
    """The county node (every service) and the township node, from resolved county settings."""
    county_org = OrgCode.parse(settings.org)
    town = OrgCode.parse(township)
    if county_org.tier is not Tier.county:
        raise SystemExit(f"--tiers runs a county node: DAIBAN_ORG={settings.org} is not a county")
    if town.tier is not Tier.township or not town.is_within(county_org):
        raise SystemExit(f"{township} is not a township of {settings.org}")
    values = settings.model_dump()
    county = Settings(**{**values, "node": "", "child_nodes": [town.value]})
    database = f"daiban_{town.value}"
    ports = {spec.name: settings.service_port(spec) + PORT_OFFSET for spec in discover_services().values()}
    township_settings = Settings(
        **{
            **values,
            "org": town.value,
            "node": "",
            "child_nodes": [],
            "database_url": with_database(settings.database_url, database),
            "ports": ports,
        }
    )
    return [
        Node("county", county, tuple(spec.name for spec in services), node_env(county)),
        Node(
            "township",
            township_settings,
            tuple(spec.name for spec in services if spec.township),
            node_env(township_settings),
            create_database=database,
        ),
    ]


def tier_tokens(township: str) -> list[tuple[str, str, str, str]]:
    """(role, org, sub, name) of the dev tokens printed for the township node."""
    if township == DEFAULT_TOWNSHIP:
        return [
            ("clerk", township, "township-clerk", "沈玉兰"),
            ("approver", township, "js-mz-b", "韩冬梅"),
            ("supervisor", township, "js-supervisor", "姜山镇监察员"),
            ("auditor", township, "township-auditor", "镇审计人员"),
            ("agent", "370285101294", "js-294-agent", "许春花"),
        ]
    return [
        (role, township, f"{role}@{township}", name)
        for role, name in (("clerk", "镇窗口人员"), ("approver", "镇审批人员"), ("auditor", "镇审计人员"))
    ]
