"""What a distribution pulls in when installed: its requirements, transitively, as pip resolves them.

Read from the installed metadata (importlib.metadata) of the environment running the tests, with
environment markers evaluated and extras followed only where a requirement asks for them.
"""

from __future__ import annotations

from importlib.metadata import requires

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def requirements(distribution: str, extras: frozenset[str] = frozenset()) -> list[Requirement]:
    """The requirements of `distribution` (installed with `extras`) that apply here."""
    found = []
    for line in requires(distribution) or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
            found.append(requirement)
    return found


def closure(distribution: str) -> set[str]:
    """Canonical names of every distribution that installing `distribution` installs, but itself."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [(distribution, frozenset[str]())]
    while pending:
        name, extras = pending.pop()
        for requirement in requirements(name, extras):
            child = (canonicalize_name(requirement.name), frozenset(requirement.extras))
            if child not in seen:
                seen.add(child)
                pending.append(child)
    return {name for name, _ in seen}
