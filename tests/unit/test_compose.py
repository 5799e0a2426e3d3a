"""deploy/compose: valid against the compose specification's JSON schema, and a start order that holds.

The schema is the compose-spec project's own (deploy/compose/schema/README.md says which version).
Compose checks more than the schema: the references between services, volumes and env files are
checked here too, so a typo fails in CI rather than on a county's server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from tests.unit.test_natsconf import assert_nats_server_accepts

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose"
SCHEMA = json.loads((COMPOSE / "schema" / "compose-spec.json").read_text(encoding="utf-8"))
FILES = sorted(COMPOSE.glob("*.yaml"))
SERVICES = ("intake", "catalogue", "routing", "audit")
# What a township node runs: the services whose spec says `township` (the catalogue is the county's).
TOWNSHIP_SERVICES = ("intake", "routing", "audit")
SECRETS = {
    "county.yaml": {
        "secrets.env": ("POSTGRES_PASSWORD", "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"),
        "nats-secrets.env": ("DAIBAN_NATS_PASSWORD_T420684102",),
    },
    "township.yaml": {
        "township-secrets.env": ("POSTGRES_PASSWORD", "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"),
        "township-nats-secrets.env": ("NATS_LEAF_PASSWORD",),
    },
}
# Each node's NATS configuration, the env file of its passwords (the nats container's alone), its
# services, and the DAIBAN_NODE of its example env file.
NODES = {
    "county.yaml": ("county.conf", "nats-secrets.env", SERVICES, "county.env.example"),
    "township.yaml": (
        "township.conf",
        "township-nats-secrets.env",
        TOWNSHIP_SERVICES,
        "township.env.example",
    ),
}
USER = re.compile(r"^\s*\{ user: ([^,]+), password: \$([A-Z0-9_]+)(.*)$", re.MULTILINE)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def test_there_are_a_county_node_and_a_township_node() -> None:
    assert {COMPOSE / "county.yaml", COMPOSE / "township.yaml"} <= set(FILES)


def test_the_township_node_runs_what_a_township_runs() -> None:
    from daiban_common.service import discover_services

    expected = {spec.name for spec in discover_services().values() if spec.township}
    assert set(TOWNSHIP_SERVICES) == expected
    services = load(COMPOSE / "township.yaml")["services"]
    assert {n for n, s in services.items() if s.get("command", [""])[0] == "serve"} == expected
    assert services["migrate"]["command"] == ["migrate", *TOWNSHIP_SERVICES]


def test_the_nats_configurations_are_what_natsconf_renders() -> None:
    from deploy.compose.nats.render import EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS, county_conf, township_conf

    assert (COMPOSE / "nats" / "county.conf").read_text(encoding="utf-8") == county_conf(
        EXAMPLE_COUNTY, EXAMPLE_TOWNSHIPS
    ), "deploy/compose/nats/county.conf differs: run deploy/compose/nats/render.py"
    assert (COMPOSE / "nats" / "township.conf").read_text(encoding="utf-8") == township_conf(
        EXAMPLE_TOWNSHIPS[0]
    ), "deploy/compose/nats/township.conf differs: run deploy/compose/nats/render.py"
    # The examples agree with the rendered files: the county lists the township as a child node,
    # the township's leaf user is the hub's, and each side has its password variable.
    county_env = (COMPOSE / "county.env.example").read_text(encoding="utf-8")
    township_env = (COMPOSE / "township.env.example").read_text(encoding="utf-8")
    user = f"t{EXAMPLE_TOWNSHIPS[0][:9]}"
    assert f"DAIBAN_CHILD_NODES={EXAMPLE_TOWNSHIPS[0]}\n" in county_env
    assert f"DAIBAN_ORG={EXAMPLE_TOWNSHIPS[0]}\n" in township_env
    assert f"DAIBAN_LEAF_USER={user}\n" in township_env
    assert f"DAIBAN_NATS_PASSWORD_{user.upper()}" in env_keys("nats-secrets.env")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_valid_against_the_compose_specification(path: Path) -> None:
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _validator().iter_errors(load(path))
    ]
    assert not errors, errors


def test_the_schema_refuses_what_compose_would() -> None:
    broken = load(COMPOSE / "county.yaml")
    broken["services"]["intake"]["depends_on"] = {"postgres": {"condition": "when_ready"}}
    assert not _validator().is_valid(broken)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_references_resolve_and_start_is_health_gated(path: Path) -> None:
    compose = load(path)
    services: dict[str, dict[str, Any]] = compose["services"]
    volumes = set(compose.get("volumes", {}))
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}, (name, target)
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            assert source in volumes or (COMPOSE / source).exists(), f"{name}: {source}"
        for env_file in service.get("env_file", []):
            assert (COMPOSE / f"{env_file}.example").exists(), f"{name}: {env_file}.example"
        one_shot = service.get("restart") == "no"
        has_check = "test" in service.get("healthcheck", {}) or name in SERVICES  # the image's HEALTHCHECK
        assert one_shot or has_check, f"{name} has no health check to gate on"
    for name in SERVICES if path.name == "county.yaml" else TOWNSHIP_SERVICES:
        assert services[name]["command"] == ["serve", name]
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == needs["nats"]["condition"] == "service_healthy"
    assert services["migrate"]["command"][0] == "migrate"


@pytest.mark.parametrize("name", ["county.yaml", "township.yaml"])
def test_the_volumes_hold_postgresql_jetstream_and_the_audit_key(name: str) -> None:
    services = load(COMPOSE / name)["services"]
    mounts = {m.split(":")[1] for s in services.values() for m in s.get("volumes", []) if ":" in m}
    assert {"/var/lib/postgresql/data", "/data/jetstream", "/var/lib/daiban/keys"} <= mounts


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_secrets_are_read_from_env_files_never_written_in(name: str) -> None:
    text = (COMPOSE / name).read_text(encoding="utf-8")
    for env_file, secrets in SECRETS[name].items():
        for secret in (*secrets, *env_keys(env_file)):
            # As a key of `environment:` (mapping or list form), a value would be written in the file.
            assert not re.search(rf"^\s*(- )?{secret}\s*[:=]", text, re.MULTILINE), secret
            assert secret in env_keys(env_file), (env_file, secret)


def env_keys(env_file: str) -> list[str]:
    text = (COMPOSE / f"{env_file}.example").read_text(encoding="utf-8")
    return [line.split("=")[0] for line in text.splitlines() if line and not line.startswith("#")]


def unrestricted_users(conf: str) -> list[str]:
    """The users of a rendered nats-server configuration that may publish or subscribe anything."""
    found = USER.findall(conf)
    assert found, "no users: the server would take any client"
    return [user for user, _, rest in found if "permissions:" not in rest]


@pytest.mark.parametrize("name", sorted(NODES))
def test_every_user_of_the_node_s_nats_server_has_permissions(name: str) -> None:
    conf = (COMPOSE / "nats" / NODES[name][0]).read_text(encoding="utf-8")
    assert unrestricted_users(conf) == []
    assert not re.search(r'allow: \[[^]]*"(>|\*)"', conf), "a user allowed every subject"


@pytest.mark.parametrize("name", sorted(NODES))
def test_every_service_connects_as_its_own_nats_user(name: str) -> None:
    conf_name, nats_env, services, settings = NODES[name]
    compose = load(COMPOSE / name)["services"]
    node = next(line.split("=")[1] for line in env_lines(settings) if line.startswith("DAIBAN_NODE="))
    conf = (COMPOSE / "nats" / conf_name).read_text(encoding="utf-8")
    users = {user: variable for user, variable, _ in USER.findall(conf)}
    # Only nats reads every password; a service's container holds its own and no other.
    assert compose["nats"]["env_file"] == [nats_env]
    for service in services:
        environment = compose[service]["environment"]
        assert nats_env not in compose[service]["env_file"]
        from_settings = f"${{DAIBAN_NODE:?set in {settings.removesuffix('.example')}}}"
        assert environment["DAIBAN_NATS_USER"] == f"{from_settings}-{service}"
        variable = users[f"{node}-{service}"]
        assert environment["DAIBAN_NATS_PASSWORD"] == f"${{{variable}:?set in {nats_env}}}"
    # Every password the server reads is in the nats container's env file (the leaf's URL up is in
    # its environment): nats-server does not start with a variable missing.
    assert set(users.values()) <= set(env_keys(nats_env))
    assert len(set(users.values())) == len(users), "two users share a password variable"


def env_lines(env_file: str) -> list[str]:
    return (COMPOSE / env_file).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", sorted(NODES))
def test_nats_server_accepts_the_configuration_with_the_example_passwords(name: str, tmp_path: Path) -> None:
    conf_name, nats_env, _, _ = NODES[name]
    conf = tmp_path / conf_name
    text = (COMPOSE / "nats" / conf_name).read_text(encoding="utf-8")
    conf.write_text(text.replace("/data/jetstream", str(tmp_path / "js")), encoding="utf-8")
    env = dict(line.split("=", 1) for line in env_lines(f"{nats_env}.example") if line and line[0] != "#")
    env["DAIBAN_HUB_URL"] = "nats-leaf://t420684102:pchangemenatsleaf@127.0.0.1:7422"
    assert_nats_server_accepts(conf, env)


def _validator() -> Any:
    return jsonschema_rs.Draft7Validator(SCHEMA)
