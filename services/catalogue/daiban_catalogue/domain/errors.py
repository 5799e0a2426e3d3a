"""Domain errors: what was wrong, field by field, in words a clerk can act on.

Not tied to HTTP: the API layer maps `InvalidDraft` and `InvalidQuery` to a 422 problem and
`VersionConflict` to a 409, each violation becoming one entry of `errors`; `NotInCatalogue` to a
404 and `ConcurrentChange` to a 409.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Violation(NamedTuple):
    """One broken rule: a field path (`materials[2].copies`) and a Chinese message."""

    field: str
    message: str


class CatalogueError(Exception):
    """Base of the catalogue's domain errors; carries every violation found, not just the first."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        if not self.violations:
            raise ValueError("a catalogue error needs at least one violation")
        super().__init__("；".join(f"{v.field}: {v.message}" for v in self.violations))

    @property
    def fields(self) -> set[str]:
        return {v.field for v in self.violations}


class InvalidDraft(CatalogueError):
    """The submitted content breaks the catalogue's rules."""


class VersionConflict(CatalogueError):
    """The request conflicts with the item's current state (unchanged draft, retired item ...)."""


class InvalidQuery(CatalogueError):
    """A read's parameters name what the item does not have, or contradict each other."""


class NotInCatalogue(Exception):
    """What a request names (an item, a version, an org unit) is not in this catalogue."""

    def __init__(self, message: str = "事项不存在") -> None:
        super().__init__(message)
        self.message = message


class ConcurrentChange(Exception):
    """Another request changed the item first (the same new item or version number): one won."""
