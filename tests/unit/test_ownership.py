"""Every event type has exactly one owner, and it is the service whose code emits it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daiban_contracts.envelope import registered_types
from daiban_contracts.ownership import (
    Service,
    UnownedEventType,
    emitted_by_every_service,
    owned_by,
    owner,
    owners,
)

SERVICES = Path(__file__).resolve().parents[2] / "services"


def _emitted_by(service: Service) -> set[str]:
    """Payload classes constructed in the modules of `service` that hand events to a unit of work
    (`uow.emit(...)`): a reading of the code, not of the table."""
    names = {cls.__name__ for cls in registered_types().values()}
    found: set[str] = set()
    for path in (SERVICES / service.value).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if ".emit(" not in text:
            continue
        found.update(name for name in names if re.search(rf"\b{name}\(", text))
    return found


def test_every_registered_type_has_one_owner_or_is_the_platforms() -> None:
    types = registered_types()
    assert types, "no event types registered"
    for name in types:
        found = owners(name)
        assert len(found) == 1 or (emitted_by_every_service(name) and found == frozenset(Service))
    single = [name for name in types if not emitted_by_every_service(name)]
    assert sorted(t for s in Service for t in owned_by(s) if not emitted_by_every_service(t)) == sorted(
        single
    )


@pytest.mark.parametrize("service", list(Service))
def test_the_owner_is_the_service_that_emits(service: Service) -> None:
    classes = {name: cls.__name__ for name, cls in registered_types().items()}
    # The platform's own types are emitted by the shared library (daiban_common), not a service.
    expected = {classes[name] for name in owned_by(service) if not emitted_by_every_service(name)}
    assert _emitted_by(service) == expected


def test_a_later_version_belongs_to_the_same_owner() -> None:
    assert owner("daiban.case.decided.v2") is Service.routing
    with pytest.raises(UnownedEventType):
        owner("daiban.case.invented.v1")
