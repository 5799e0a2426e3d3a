"""Write side: command handlers and event handlers; each commits its own unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")

# The actor of what routing does on its own (assignments, the sweep, the published org units).
SYSTEM_ACTOR = "system:routing"
# Identities of the suite's own services, not people: the directory does not list them.
SYSTEM_PREFIX = "system:"


@dataclass(frozen=True)
class Upserted(Generic[R]):
    """A directory record a creating POST wrote (`created`), or found already there (the same one
    sent again under another key), and where it is read."""

    record: R
    created: bool
    location: str
