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

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose"
SCHEMA = json.loads((COMPOSE / "schema" / "compose-spec.json").read_text(encoding="utf-8"))
FILES = sorted(COMPOSE.glob("*.yaml"))
SERVICES = ("intake", "catalogue", "routing", "audit")
# What a township node runs: the services whose spec says `township` (the catalogue is the county's).
TOWNSHIP_SERVICES = ("intake", "routing", "audit")
SECRETS = {
    "county.yaml": ("secrets.env", ("POSTGRES_PASSWORD", "DAIBAN_NATS_PASSWORD_COUNTY")),
    "township.yaml": ("township-secrets.env", ("POSTGRES_PASSWORD", "NATS_LEAF_PASSWORD")),
}


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
    assert f"DAIBAN_NATS_PASSWORD_{user.upper()}=" in (COMPOSE / "secrets.env.example").read_text(
        encoding="utf-8"
    )


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
    env_file, own = SECRETS[name]
    for secret in (*own, "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"):
        # As a key of `environment:` (mapping or list form), a value would be written in the file.
        assert not re.search(rf"^\s*(- )?{secret}\s*[:=]", text, re.MULTILINE), secret
        assert f"{secret}=" in (COMPOSE / f"{env_file}.example").read_text(encoding="utf-8")


def _validator() -> Any:
    return jsonschema_rs.Draft7Validator(SCHEMA)
