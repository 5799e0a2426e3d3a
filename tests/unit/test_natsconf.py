"""The nats-server configurations of the hub and a township leaf: deploy/nats holds exactly what
daiban_devtools.natsconf renders, and nats-server accepts both."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from daiban_contracts.subjects import Subjects
from daiban_devtools.embedded import nats_server_binary
from daiban_devtools.natsconf import (
    Listen,
    hub_config,
    leaf_config,
    new_password,
    node_users,
    password_variable,
    plain_password,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"
HEADER = "# Rendered by daiban_devtools.natsconf (tests/unit/test_natsconf.py); see deploy/README.md.\n"
COUNTY_USERS = node_users(
    Subjects(), "370285000000", "n370285000000", ["intake", "catalogue", "routing", "audit"], "DAIBAN"
)
TOWNSHIP_USERS = node_users(
    Subjects(), "370285101000", "n370285101000", ["intake", "routing", "audit"], "DAIBAN"
)
SAMPLES = {
    "county-hub.conf": HEADER
    + hub_config(
        county="370285000000",
        townships=["370285101000", "370285102000"],
        listen=Listen("0.0.0.0", 4222),
        leaf_listen=Listen("0.0.0.0", 7422),
        store_dir="/var/lib/daiban/nats",
        subjects=Subjects(),
        services=COUNTY_USERS,
        monitor=Listen("127.0.0.1", 8222),
    ),
    "township-leaf.conf": HEADER
    + leaf_config(
        township="370285101000",
        listen=Listen("127.0.0.1", 4222),
        store_dir="/var/lib/daiban/nats",
        hub_url_variable="DAIBAN_HUB_URL",
        services=TOWNSHIP_USERS,
        monitor=Listen("127.0.0.1", 8222),
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_deploy_samples_are_what_the_code_renders(name: str) -> None:
    assert (DEPLOY / name).read_text(encoding="utf-8") == SAMPLES[name], (
        f"deploy/nats/{name} differs: rewrite it from tests/unit/test_natsconf.py SAMPLES"
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_nats_server_accepts_the_configuration(name: str, tmp_path: Path) -> None:
    config = tmp_path / name
    config.write_text(SAMPLES[name].replace("/var/lib/daiban/nats", str(tmp_path / "js")), encoding="utf-8")
    env = {
        **{password_variable(user.name): "s" for user in [*COUNTY_USERS, *TOWNSHIP_USERS]},
        "DAIBAN_NATS_PASSWORD_T370285101": "y",
        "DAIBAN_NATS_PASSWORD_T370285102": "z",
        "DAIBAN_HUB_URL": "nats-leaf://t370285101:y@127.0.0.1:7422",
    }
    assert_nats_server_accepts(config, env)


def assert_nats_server_accepts(config: Path, env: dict[str, str]) -> None:
    """`nats-server -t`: the configuration parses, every `$VARIABLE` of it found in `env`."""
    checked = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_secret_is_never_written_into_a_configuration() -> None:
    for text in SAMPLES.values():
        assert text.count("password: $DAIBAN_NATS_PASSWORD_") == text.count("password:")
        assert 'password: "' not in text


@pytest.mark.parametrize("password", ["2026-12-06Tx", "123456789012345678", "a-b_c"])
def test_a_password_nats_server_would_misread_is_not_plain(password: str) -> None:
    assert not plain_password(password)


def test_generated_passwords_start_the_server(tmp_path: Path) -> None:
    """A generated password is read by nats-server as the string it is (a random one starting
    with digits and dashes once failed to start the hub)."""
    for _ in range(20):
        assert plain_password(new_password())
    config = tmp_path / "hub.conf"
    config.write_text(SAMPLES["county-hub.conf"].replace("/var/lib/daiban/nats", str(tmp_path / "js")))
    env = {
        name: new_password()
        for name in (
            *(password_variable(user.name) for user in COUNTY_USERS),
            "DAIBAN_NATS_PASSWORD_T370285101",
            "DAIBAN_NATS_PASSWORD_T370285102",
        )
    }
    command = [str(nats_server_binary()), "-t", "-c", str(config)]
    assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
