"""The catalogue's rules: pure functions over item drafts and versions, no I/O."""

from daiban_catalogue.domain.departments import Department
from daiban_catalogue.domain.diff import FieldChange, diff
from daiban_catalogue.domain.drafts import (
    DraftState,
    ItemDraft,
    content_fields,
    draft_from_version,
    identity_changes,
    implementation_code_for,
    merge_patch,
    same_content,
)
from daiban_catalogue.domain.errors import (
    CatalogueError,
    ConcurrentChange,
    InvalidDraft,
    InvalidQuery,
    NotInCatalogue,
    VersionConflict,
    Violation,
)
from daiban_catalogue.domain.rules import deciding_tier, ensure_valid, validate_draft
from daiban_catalogue.domain.search import derive_search_keys, matches_query, normalise, search_texts
from daiban_catalogue.domain.stats import ReformStats, describe_reform, percent, reform_stats
from daiban_catalogue.domain.versions import (
    NewVersion,
    delegate,
    ensure_not_retroactive,
    publish,
    refuse_version_edit,
    retire,
)

__all__ = [
    "CatalogueError",
    "ConcurrentChange",
    "Department",
    "DraftState",
    "FieldChange",
    "InvalidDraft",
    "InvalidQuery",
    "ItemDraft",
    "NewVersion",
    "NotInCatalogue",
    "ReformStats",
    "VersionConflict",
    "Violation",
    "content_fields",
    "deciding_tier",
    "delegate",
    "derive_search_keys",
    "describe_reform",
    "diff",
    "draft_from_version",
    "ensure_not_retroactive",
    "ensure_valid",
    "identity_changes",
    "implementation_code_for",
    "matches_query",
    "merge_patch",
    "normalise",
    "percent",
    "publish",
    "reform_stats",
    "refuse_version_edit",
    "retire",
    "same_content",
    "search_texts",
    "validate_draft",
]
