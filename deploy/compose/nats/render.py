"""The nats-server configurations of deploy/compose: the county's hub (county.conf) and a township's
leaf (township.conf), rendered by daiban_devtools.natsconf, the code the tier tests run their
servers with, so the compose nodes speak the same network.

    .venv/bin/python deploy/compose/nats/render.py --county 420684000000 --county-node yicheng \
        --township 420684102000 --township-node zhengji

writes both files for a county and its township nodes. Every server authenticates every client:
each service of the node is its own user `<DAIBAN_NODE>-<service>` (and `<DAIBAN_NODE>-observer`,
read-only, for operators), limited to the events its service owns (daiban_devtools.natsusers); the
hub also holds one user per township leaf, limited to what its township may send and receive. The
files committed here are the example of county.env.example and township.env.example;
tests/unit/test_compose.py and tests/unit/test_k8s.py keep them in step. Passwords are `$VARIABLES`
read from each server's environment (nats-secrets.env, township-nats-secrets.env, the Secret
daiban-nats):
`DAIBAN_NATS_PASSWORD_<SERVICE>` per service, `DAIBAN_NATS_PASSWORD_T<9 digits>` per leaf.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from daiban_common.service import discover_services
from daiban_contracts.subjects import Subjects
from daiban_devtools.natsconf import Listen, User, hub_config, leaf_config, node_users
from daiban_devtools.natsusers import OBSERVER

HERE = Path(__file__).resolve().parent
EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS = "420684000000", ("420684102000",)
# DAIBAN_NODE of county.env.example and township.env.example: the users' names start with it.
EXAMPLE_COUNTY_NODE, EXAMPLE_TOWNSHIP_NODE = "yicheng", "zhengji"
STREAM = "DAIBAN"
# Inside the containers: the stores are volumes at /data/jetstream; the client port comes from the
# command line (-p), the leaf port from here (the hub publishes it to the townships).
STORE = "/data/jetstream"
LEAF_PORT = 7422
HEADER = "# Rendered by deploy/compose/nats/render.py (daiban_devtools.natsconf); do not edit by hand.\n"


def node_services(township: bool) -> list[str]:
    """The services a node runs: every one at the county, `ServiceSpec.township` ones below."""
    return [spec.name for spec in discover_services().values() if spec.township or not township]


def service_password_variable(service: str) -> str:
    """`DAIBAN_NATS_PASSWORD_INTAKE`: the node's name is left out, so that the compose files and
    the Kubernetes base name the same variable on every node."""
    return f"DAIBAN_NATS_PASSWORD_{service.upper()}"


def identities(node_org: str, node: str, services: Sequence[str]) -> list[User]:
    """The node's users: one per service and the observer (natsconf.node_users, in that order)."""
    users = node_users(Subjects(), node_org, node, services, STREAM)
    return [
        replace(user, variable=service_password_variable(name))
        for user, name in zip(users, [*services, OBSERVER], strict=True)
    ]


def county_conf(
    county: str, townships: Sequence[str], leaf_port: int = LEAF_PORT, node: str = EXAMPLE_COUNTY_NODE
) -> str:
    return HEADER + hub_config(
        county=county,
        townships=townships,
        listen=Listen("0.0.0.0", 4222),
        leaf_listen=Listen("0.0.0.0", leaf_port),
        store_dir=STORE,
        subjects=Subjects(),
        services=identities(county, node, node_services(township=False)),
    )


def township_conf(township: str, node: str = EXAMPLE_TOWNSHIP_NODE) -> str:
    # The whole leaf URL, password inside, comes from DAIBAN_HUB_URL (township.yaml builds it).
    return HEADER + leaf_config(
        township=township,
        listen=Listen("0.0.0.0", 4222),
        store_dir=STORE,
        hub_url_variable="DAIBAN_HUB_URL",
        services=identities(township, node, node_services(township=True)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--county", default=EXAMPLE_COUNTY)
    parser.add_argument("--county-node", default=EXAMPLE_COUNTY_NODE, help="the county's DAIBAN_NODE")
    parser.add_argument("--township", action="append", help="a township node (repeat for several)")
    parser.add_argument(
        "--township-node", default=EXAMPLE_TOWNSHIP_NODE, help="the first township's DAIBAN_NODE"
    )
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    townships = args.township or list(EXAMPLE_TOWNSHIPS)
    county = county_conf(args.county, townships, node=args.county_node)
    (args.out / "county.conf").write_text(county, encoding="utf-8")
    # One township.conf serves the first township; render into another --out for each further one.
    township = township_conf(townships[0], node=args.township_node)
    (args.out / "township.conf").write_text(township, encoding="utf-8")


if __name__ == "__main__":
    main()
