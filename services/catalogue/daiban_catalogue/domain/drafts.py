"""Drafts: the content an administrator submits and edits before it becomes a version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from daiban_catalogue.domain.errors import Violation
from daiban_contracts.catalogue import ItemContent, ItemVersionData

_CONTENT_FIELDS = tuple(ItemContent.model_fields)

# The HTTP API calls `implementation_code` `item_code` (docs/api-vocabulary.md); a violation names
# the field as the client spelled it.
HTTP_ITEM_CODE = "item_code"


def http_field(path: str) -> str:
    """A field path of the contract's names as HTTP spells it."""
    if path == "implementation_code" or path.startswith("implementation_code."):
        return HTTP_ITEM_CODE + path.removeprefix("implementation_code")
    return path


class ItemDraft(ItemContent):
    """Everything an item version holds except what is derived (pinyin) or set on publishing.

    Cross-field rules live in `rules.validate_draft`, not here, so that one submission reports
    every problem at once in Chinese rather than stopping at pydantic's first complaint.
    """


@dataclass(frozen=True)
class DraftState:
    """An item's draft beside its current version (None until the first publish)."""

    implementation_code: str
    # draft (never published), published or retired
    status: str
    current_version: int | None
    draft: ItemDraft
    current: ItemVersionData | None


def content_fields() -> tuple[str, ...]:
    """Names of the fields that make up an item's content (what "unchanged" is judged on)."""
    return _CONTENT_FIELDS


def draft_from_version(version: ItemVersionData) -> ItemDraft:
    """The content of a version as a new draft: the only way to edit a published item."""
    return ItemDraft(**{name: getattr(version, name) for name in _CONTENT_FIELDS})


def same_content(a: ItemContent, b: ItemContent) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _CONTENT_FIELDS)


def implementation_code_for(base_code: str, implementing_org: str, sequence: int = 1) -> str:
    """`XK-00105-001` implemented by `370285000000` -> `XK-00105-001-370285000000-01`.

    The sequence tells apart several implementations of one base item by the same org unit.
    """
    return f"{base_code}-{implementing_org}-{sequence:02d}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


IDENTITY_FIELDS = ("implementation_code", "base_code", "implementing_org")


def identity_changes(before: ItemContent, after: ItemContent) -> list[Violation]:
    """An item's codes are its identity: a different code is a different item, created anew."""
    return [
        Violation(http_field(name), "事项编码、实施区划和实施编码不能修改；如需变更，请新建事项并废止本事项")
        for name in IDENTITY_FIELDS
        if getattr(before, name) != getattr(after, name)
    ]
