"""nats-server configurations of a county's network: the county's hub and a township's leaf.

Every node runs a nats-server of its own with its own JetStream domain. The county's is the hub:
township servers connect to it as leaf nodes, each authenticating as a user of the hub's account
whose permissions say what may cross the link (deploy/README.md, "What crosses a link"). Secrets are
never written into a configuration: each is a `$VARIABLE`, unquoted (a quoted `"$X"` is a literal
string to nats-server), that the server reads from its environment.

`daiban run --tiers` starts servers from these texts; deploy/nats holds the same, rendered for a
county's machines (tests/unit/test_natsconf.py keeps them in step).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from daiban_contracts.crossing import leaf_permissions
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.subjects import Subjects
from daiban_devtools.natsusers import OBSERVER, Permissions, identity_permissions, service_user

ACCOUNT = "DAIBAN"
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# nats-server reads a `$VARIABLE`'s value as a configuration value, not as a string: a password
# like `2026-12...` fails to start the server ("ISO8601 dates must be in full Zulu form") and `123`
# becomes a number. A letter first and letters or digits after it always read as a string.
_PLAIN_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9]{15,}$")


def plain_password(password: str) -> bool:
    """Whether nats-server reads `password` from the environment as the string it is."""
    return _PLAIN_PASSWORD.fullmatch(password) is not None


def new_password() -> str:
    return "p" + secrets.token_hex(24)


def leaf_user(township: str | OrgCode) -> str:
    """The hub's user a township's leaf connection authenticates as: `t370285101`."""
    code = township if isinstance(township, OrgCode) else OrgCode.parse(township)
    return f"t{code.value[:9]}"


def password_variable(user: str) -> str:
    """The environment variable holding a user's password: `DAIBAN_NATS_PASSWORD_T370285101`,
    `DAIBAN_NATS_PASSWORD_N370285000000_INTAKE`."""
    return f"DAIBAN_NATS_PASSWORD_{user.upper().replace('-', '_')}"


@dataclass(frozen=True)
class User:
    """A user of a server: its password is read from `variable`, by default
    `password_variable(name)`, unless given here (an outside system's, added while the server runs:
    see daiban_devtools.systems)."""

    name: str
    permissions: Permissions
    password: str = ""
    # deploy/compose and deploy/k8s name a service's variable without the node
    # (`DAIBAN_NATS_PASSWORD_INTAKE`): one compose file or base manifest serves every node.
    variable: str = ""


def node_users(
    subjects: Subjects, node_org: str, node_name: str, services: Sequence[str], stream: str
) -> list[User]:
    """One user per service of a node, each limited to the events its service owns, and the
    node's read-only observer."""
    return [
        User(user, identity_permissions(subjects, node_org, name, user=user, stream=stream))
        for name in [*services, OBSERVER]
        for user in [service_user(node_name, name)]
    ]


def _user(user: User) -> str:
    if user.variable and not _VARIABLE.fullmatch(user.variable):
        raise ValueError(f"not an environment variable name: {user.variable}")
    secret = f'"{user.password}"' if user.password else f"${user.variable or password_variable(user.name)}"
    return (
        f"    {{ user: {user.name}, password: {secret}, permissions: {{\n"
        f"        publish: {{ allow: {_list(user.permissions.publish)} }}\n"
        f"        subscribe: {{ allow: {_list(user.permissions.subscribe)} }} }} }}"
    )


def authorization(users: Sequence[User]) -> str:
    """The users of a server without accounts (a single node's, a township's leaf)."""
    return "authorization {\n  users = [\n" + "\n".join(_user(u) for u in users) + "\n  ]\n}\n"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _jetstream(store_dir: str, domain: str) -> str:
    return (
        "jetstream {\n"
        f'  store_dir: "{store_dir}"\n'
        f"  domain: {domain}\n"
        "  # Events are the network's record in transit: fsync every write.\n"
        "  sync_interval: always\n"
        "}\n"
    )


def _monitor(monitor: Listen | None) -> str:
    # /varz, /leafz, /jsz: what an operator looks at to see a link and a stream.
    return f"http: {monitor}\n" if monitor is not None else ""


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def hub_config(
    *,
    county: str,
    townships: Sequence[str],
    listen: Listen,
    leaf_listen: Listen,
    store_dir: str,
    subjects: Subjects,
    services: Sequence[User],
    server_name: str = "county-hub",
    monitor: Listen | None = None,
) -> str:
    """The county's server: its own JetStream domain `hub`, one account for the county's services
    (`services`: node_users) and one user per township leaf, limited to what that township may
    send and receive."""
    county_code = OrgCode.parse(county)
    if county_code.tier is not Tier.county:
        raise ValueError(f"{county} is not a county")
    users = [_user(user) for user in services]
    for township in townships:
        user = leaf_user(township)
        allowed = leaf_permissions(subjects, OrgCode.parse(township))
        users.append(
            f"    {{ user: {user}, password: ${password_variable(user)}, permissions: {{\n"
            f"        publish: {{ allow: {_list(allowed.publish)} }}\n"
            f"        subscribe: {{ allow: {_list(allowed.subscribe)} }} }} }}"
        )
    return (
        f'server_name: "{server_name}"\n'
        f"listen: {listen}\n"
        + _monitor(monitor)
        + "max_payload: 1MB\n"
        + _jetstream(store_dir, "hub")
        + "accounts {\n"
        f"  {ACCOUNT} {{\n"
        "    jetstream: enabled\n"
        "    users = [\n" + "\n".join(users) + "\n    ]\n  }\n}\n"
        # Township leaves authenticate as the account's users above (no block of their own here).
        f"leafnodes {{\n  listen: {leaf_listen}\n"
        # A leaf keeps to the address it was given (a county's public address, a relay): the hub
        # must not tell it the listen address, which a township usually cannot reach.
        "  no_advertise: true\n}\n"
    )


def leaf_config(
    *,
    township: str,
    listen: Listen,
    store_dir: str,
    hub_url_variable: str,
    services: Sequence[User],
    server_name: str = "",
    monitor: Listen | None = None,
) -> str:
    """A township's server: its own JetStream domain, a leaf connection up to the hub whose whole
    URL (`nats-leaf://t370285101:<password>@hub:7422`) is read from `hub_url_variable`."""
    if not _VARIABLE.fullmatch(hub_url_variable):
        raise ValueError(f"not an environment variable name: {hub_url_variable}")
    code = OrgCode.parse(township)
    domain = leaf_user(code)
    return (
        f'server_name: "{server_name or "township-" + code.value[:9]}"\n'
        f"listen: {listen}\n"
        + _monitor(monitor)
        + "max_payload: 1MB\n"
        + _jetstream(store_dir, domain)
        # The township's services; the leaf connection up is not a client and binds to the same
        # (global) account, where the hub's permissions for the township apply.
        + authorization(services)
        + "leafnodes {\n"
        # Reconnect at once when the line comes back: the outboxes are waiting.
        "  reconnect: 1s\n"
        f"  remotes = [ {{ urls: [${hub_url_variable}] }} ]\n"
        "}\n"
    )
