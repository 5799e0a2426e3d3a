"""Settings of the audit service alone (`DAIBAN_AUDIT_*`), next to the node's `DAIBAN_*` settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    # extra="ignore": DAIBAN_AUDIT_PORT belongs to the node settings and must not trip us up.
    model_config = SettingsConfigDict(env_prefix="DAIBAN_AUDIT_", extra="ignore")

    # A checkpoint is signed after this many new entries ...
    checkpoint_every_entries: int = Field(default=100, ge=1, le=1_000_000)
    # ... or, on a quiet node, once this much time has passed with entries not yet covered.
    checkpoint_interval_seconds: float = Field(default=60.0, gt=0, le=86_400)
    # The single-machine network has no node for the county's parent (the prefecture); with this
    # set, the node also keeps the checkpoints addressed to its parent, standing in for it.
    stand_in_for_parent: bool = False
