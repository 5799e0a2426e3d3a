"""The nats-server configurations of deploy/compose: the county's hub (county.conf) and a township's
leaf (township.conf), rendered by daiban_devtools.natsconf, the code the tier tests run their
servers with, so the compose nodes speak the same network.

    .venv/bin/python deploy/compose/nats/render.py --county 420684000000 --township 420684102000

writes both files for a county and its township nodes (the hub holds one user per township leaf,
each limited to what its township may send and receive). The files committed here are the example
of county.env.example and township.env.example; tests/unit/test_compose.py keeps them in step.
Passwords are `$VARIABLES` read from each server's environment (secrets.env, township-secrets.env).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from daiban_contracts.subjects import Subjects
from daiban_devtools.natsconf import Listen, hub_config, leaf_config

HERE = Path(__file__).resolve().parent
EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS = "420684000000", ("420684102000",)
# Inside the containers: the stores are volumes at /data/jetstream; the client port comes from the
# command line (-p), the leaf port from here (the hub publishes it to the townships).
STORE = "/data/jetstream"
LEAF_PORT = 7422
HEADER = "# Rendered by deploy/compose/nats/render.py (daiban_devtools.natsconf); do not edit by hand.\n"


def county_conf(county: str, townships: Sequence[str], leaf_port: int = LEAF_PORT) -> str:
    return HEADER + hub_config(
        county=county,
        townships=townships,
        listen=Listen("0.0.0.0", 4222),
        leaf_listen=Listen("0.0.0.0", leaf_port),
        store_dir=STORE,
        subjects=Subjects(),
        # The services still share the hub's user `county`: per-service identities (issue 15,
        # docs/operations.md "NATS identities") are not wired into the compose files yet.
        services=None,
    )


def township_conf(township: str) -> str:
    # The whole leaf URL, password inside, comes from DAIBAN_HUB_URL (township.yaml builds it).
    return HEADER + leaf_config(
        township=township,
        listen=Listen("0.0.0.0", 4222),
        store_dir=STORE,
        hub_url_variable="DAIBAN_HUB_URL",
        services=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--county", default=EXAMPLE_COUNTY)
    parser.add_argument("--township", action="append", help="a township node (repeat for several)")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    townships = args.township or list(EXAMPLE_TOWNSHIPS)
    (args.out / "county.conf").write_text(county_conf(args.county, townships), encoding="utf-8")
    # One township.conf serves the first township; render into another --out for each further one.
    (args.out / "township.conf").write_text(township_conf(townships[0]), encoding="utf-8")


if __name__ == "__main__":
    main()
