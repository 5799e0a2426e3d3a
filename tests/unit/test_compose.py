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


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def test_there_is_a_county_node() -> None:
    assert COMPOSE / "county.yaml" in FILES


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
    for name in SERVICES:
        assert services[name]["command"] == ["serve", name]
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == needs["nats"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]


def test_the_volumes_hold_postgresql_jetstream_and_the_audit_key() -> None:
    services = load(COMPOSE / "county.yaml")["services"]
    mounts = {m.split(":")[1] for s in services.values() for m in s.get("volumes", []) if ":" in m}
    assert {"/var/lib/postgresql/data", "/data/jetstream", "/var/lib/daiban/keys"} <= mounts


def test_secrets_are_read_from_env_files_never_written_in() -> None:
    text = (COMPOSE / "county.yaml").read_text(encoding="utf-8")
    for secret in ("POSTGRES_PASSWORD", "NATS_COUNTY_PASSWORD", "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"):
        # As a key of `environment:` (mapping or list form), a value would be written in the file.
        assert not re.search(rf"^\s*(- )?{secret}\s*[:=]", text, re.MULTILINE), secret
        assert f"{secret}=" in (COMPOSE / "secrets.env.example").read_text(encoding="utf-8")


def _validator() -> Any:
    return jsonschema_rs.Draft7Validator(SCHEMA)
