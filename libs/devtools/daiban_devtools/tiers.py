"""The nodes `daiban run` starts: one node hosting the whole county, or (`--tiers`) the county node
and township nodes, each running separately as a county would run them.

Each node has its own nats-server and its own database. The county's server is the hub; each
township's is a leaf node of it with a JetStream domain of its own, authenticating with a password
generated under the var folder (daiban_devtools.natsconf). A township node hosts its township and
the villages below it; the county node hosts the county and every other township, and leaves the
townships to their nodes (`DAIBAN_CHILD_NODES`). The catalogue is authoritative at the county, so
a township node runs intake, routing and audit only (`ServiceSpec.township`): its intake keeps a
replica of the catalogue from the copies of `catalogue.item_published` the county sends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from nats.aio.client import Client as NATS

from daiban_common import bus
from daiban_common.bus import Credential, credential_for
from daiban_common.db import with_database
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.subjects import Subjects
from daiban_devtools import natsconf
from daiban_devtools.credentials import server_env, service_credentials
from daiban_devtools.embedded import EmbeddedNats
from daiban_devtools.natsconf import (
    Listen,
    hub_config,
    leaf_config,
    leaf_user,
    node_users,
    password_variable,
)
from daiban_devtools.natsusers import OBSERVER

# 姜山镇 (whose staff the demo directory holds) and 马连庄镇.
DEFAULT_TOWNSHIPS = ("370285101000", "370285102000")
DEFAULT_TOWNSHIP = DEFAULT_TOWNSHIPS[0]
# The n-th township node's service ports are the county node's plus n times this (8011-8014, 8021-8024).
PORT_OFFSET = 10
# Its nats-server listens on the county's port plus n; the hub takes leaf connections here.
LEAF_PORT_OFFSET = 200
HUB_URL_VARIABLE = "DAIBAN_HUB_URL"


@dataclass
class NatsNetwork:
    """The nats-servers of one county on one machine: the hub and a leaf per township node.

    `uplinks` may send a township's leaf connection to another port than the hub's (a test puts a
    proxy there, to cut that one link while everything else runs).
    """

    base: Path
    county: str
    townships: Sequence[str]
    hub_port: int
    township_ports: Mapping[str, int]
    leaf_port: int
    subjects: Subjects = field(default_factory=Subjects)
    uplinks: Mapping[str, int] = field(default_factory=dict)
    stream: str = "DAIBAN"
    servers: dict[str, EmbeddedNats] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.base = self.base.resolve()
        passwords = self.passwords()
        hub = EmbeddedNats(self.base / "hub", self.hub_port, server_name="county-hub")
        hub.config = hub_config(
            county=self.county,
            townships=self.townships,
            listen=Listen("127.0.0.1", self.hub_port),
            leaf_listen=Listen("127.0.0.1", self.leaf_port),
            store_dir=str(hub.store_dir),
            subjects=self.subjects,
            services=self._users(self.county),
        )
        hub.env = {
            **{password_variable(user): password for user, password in passwords.items()},
            **self._service_env(self.county),
        }
        self.servers[self.county] = hub
        for township in self.townships:
            user = leaf_user(township)
            port = self.township_ports[township]
            leaf = EmbeddedNats(self.base / user, port, server_name=f"township-{user}")
            leaf.config = leaf_config(
                township=township,
                listen=Listen("127.0.0.1", port),
                store_dir=str(leaf.store_dir),
                hub_url_variable=HUB_URL_VARIABLE,
                services=self._users(township),
            )
            uplink = self.uplinks.get(township, self.leaf_port)
            leaf.env = {
                HUB_URL_VARIABLE: f"nats-leaf://{user}:{quote(passwords[user])}@127.0.0.1:{uplink}",
                **self._service_env(township),
            }
            self.servers[township] = leaf

    def services(self, node_org: str) -> list[str]:
        """The services a node runs: every one at the county, `ServiceSpec.township` ones below."""
        every = discover_services().values()
        return [spec.name for spec in every if node_org == self.county or spec.township]

    def credentials(self, node_org: str) -> Path:
        """The folder of the node's services' credentials (DAIBAN_NATS_CREDENTIALS)."""
        return self.base / "secrets" / node_name(node_org)

    def credential(self, node_org: str, service: str) -> Credential:
        """The identity `service` of the node of `node_org` connects with (tests use it too)."""
        found = credential_for(Settings(nats_credentials=self.credentials(node_org)), service)
        if found is None:
            raise LookupError(f"{service} runs no node at {node_org}")
        return found

    async def connect(self, node_org: str, identity: str = OBSERVER) -> NATS:
        """A connection to the node's server as one of its services, or (by default) its read-only
        observer: what an operator or a test looks at streams with."""
        return await bus.connect(
            self.url(node_org), name=f"{identity}@{node_org}", credential=self.credential(node_org, identity)
        )

    def _service_env(self, node_org: str) -> dict[str, str]:
        services = self.services(node_org)
        return server_env(service_credentials(self.credentials(node_org), node_name(node_org), services))

    def _users(self, node_org: str) -> list[natsconf.User]:
        return node_users(self.subjects, node_org, node_name(node_org), self.services(node_org), self.stream)

    def passwords(self) -> dict[str, str]:
        """One password per township leaf's hub user, made once and kept (0600) under the
        network's folder."""
        folder = self.base / "secrets"
        folder.mkdir(parents=True, exist_ok=True)
        found = {}
        for user in [leaf_user(t) for t in self.townships]:
            path = folder / user
            if not path.exists() or not natsconf.plain_password(path.read_text(encoding="utf-8").strip()):
                path.write_text(natsconf.new_password(), encoding="utf-8")
                path.chmod(0o600)
            found[user] = path.read_text(encoding="utf-8").strip()
        return found

    def url(self, node_org: str) -> str:
        """The URL a node's services connect to their own server with (credentials apart)."""
        return self.servers[node_org].url

    def start(self) -> None:
        try:
            for server in self.servers.values():
                server.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for server in reversed(self.servers.values()):
            server.stop()


def node_name(node_org: str) -> str:
    """The tiers' nodes keep the default name (`DAIBAN_NODE` unset): n<org>."""
    return f"n{node_org}"


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
        **({"DAIBAN_NATS_CREDENTIALS": str(settings.nats_credentials)} if settings.nats_credentials else {}),
        "DAIBAN_VAR_DIR": str(settings.var_dir),
        **{f"DAIBAN_{spec.name.upper()}_PORT": str(settings.service_port(spec)) for spec in services},
    }


def tiers_home(settings: Settings) -> Settings:
    """The tiers keep their servers' data apart from `make run`'s (var/tiers/), so neither replays
    the other's events into consumers that never saw them."""
    return settings.model_copy(update={"var_dir": settings.var_dir / "tiers"})


def check_townships(county: str, townships: Sequence[str]) -> list[OrgCode]:
    county_org = OrgCode.parse(county)
    if county_org.tier is not Tier.county:
        raise SystemExit(f"--tiers runs a county node: DAIBAN_ORG={county} is not a county")
    found = []
    for township in townships:
        town = OrgCode.parse(township)
        if town.tier is not Tier.township or not town.is_within(county_org):
            raise SystemExit(f"{township} is not a township of {county}")
        found.append(town)
    if len({t.value for t in found}) != len(found):
        raise SystemExit("--township names a township twice")
    return found


def nats_network(settings: Settings, townships: Sequence[str]) -> NatsNetwork:
    """The county's servers for `daiban run --tiers`, on ports next to the embedded one."""
    base = settings.embedded_nats_port
    return NatsNetwork(
        base=settings.var_dir / "nats",
        county=settings.org,
        townships=list(townships),
        hub_port=base,
        township_ports={t: base + n for n, t in enumerate(townships, start=1)},
        leaf_port=base + LEAF_PORT_OFFSET,
        subjects=Subjects(settings.subject_root),
        stream=settings.stream_name,
    )


def plan_tiers(
    settings: Settings, townships: Sequence[str], services: Sequence[ServiceSpec], network: NatsNetwork
) -> list[Node]:
    """The county node (every service) and the township nodes, from resolved county settings."""
    towns = check_townships(settings.org, townships)
    values = settings.model_dump()
    county = Settings(
        **{
            **values,
            "node": "",
            "child_nodes": [t.value for t in towns],
            "nats_url": network.url(settings.org),
            "nats_credentials": network.credentials(settings.org),
        }
    )
    nodes = [Node("county", county, tuple(spec.name for spec in services), node_env(county))]
    every = discover_services().values()
    for n, town in enumerate(towns, start=1):
        database = f"daiban_{town.value}"
        township_settings = Settings(
            **{
                **values,
                "org": town.value,
                "node": "",
                "child_nodes": [],
                "database_url": with_database(settings.database_url, database),
                "nats_url": network.url(town.value),
                "nats_credentials": network.credentials(town.value),
                "ports": {spec.name: settings.service_port(spec) + n * PORT_OFFSET for spec in every},
            }
        )
        nodes.append(
            Node(
                "township",
                township_settings,
                tuple(spec.name for spec in services if spec.township),
                node_env(township_settings),
                create_database=database,
            )
        )
    return nodes


def tier_tokens(township: str) -> list[tuple[str, str, str, str]]:
    """(role, org, sub, name) of the dev tokens printed for a township node: staff of the demo
    directory (services/routing/daiban_routing/seed/directory.json), who alone may act."""
    if township == DEFAULT_TOWNSHIP:
        return [
            ("clerk", township, "township-clerk", "沈玉兰"),
            ("approver", township, "js-mz-b", "韩冬梅"),
            ("supervisor", township, "js-supervisor", "姜山镇监察员"),
            ("auditor", township, "township-auditor", "镇审计人员"),
            ("agent", "370285101294", "js-294-agent", "许春花"),
        ]
    if township == "370285102000":
        return [
            ("clerk", township, "xgz-mz-a", "秦月"),
            ("approver", township, "xgz-mz-b", "尤志刚"),
            ("agent", "370285102210", "v102210-agent", "官庄村委会代办员"),
        ]
    t = township[6:9]
    return [
        ("clerk", township, f"t{t}-w01-a", "镇窗口人员"),
        ("approver", township, f"t{t}-w01-b", "镇审批人员"),
        ("supervisor", township, f"t{t}-supervisor", "镇监察员"),
    ]
