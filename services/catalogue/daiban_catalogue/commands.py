"""What an administrator asks the catalogue to do; one handler each in `handlers/items.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from daiban_catalogue.domain import ItemDraft
from daiban_common.idempotency import Once
from daiban_contracts.catalogue import Departments, HandlingLevel, ItemKind


@dataclass(frozen=True)
class CreateDraft:
    draft: ItemDraft
    actor: str
    once: Once


@dataclass(frozen=True)
class EditDraft:
    code: str
    # An RFC 7396 merge patch over the draft's JSON.
    patch: dict[str, Any]
    actor: str


@dataclass(frozen=True)
class PublishDraft:
    code: str
    effective_date: date | None
    note: str | None
    actor: str
    once: Once


@dataclass(frozen=True)
class DelegateItem:
    code: str
    to_level: HandlingLevel
    departments: Departments
    reason: str
    effective_date: date | None
    kind: ItemKind | None
    deciding_authority: str | None
    actor: str
    once: Once


@dataclass(frozen=True)
class RetireItem:
    code: str
    reason: str
    effective_date: date | None
    actor: str
    once: Once
