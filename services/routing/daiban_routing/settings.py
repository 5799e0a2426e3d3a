"""Routing's own settings (`DAIBAN_ROUTING_*`), next to the platform's `DAIBAN_*` ones."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from daiban_routing.domain.supervision import Policy


class RoutingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAIBAN_ROUTING_", extra="ignore")

    # How often the running service re-evaluates supervision flags; 0 switches the sweep off.
    sweep_interval_seconds: float = Field(default=60.0, ge=0)
    yellow_working_days: int = Field(default=1, ge=0)
    yellow_ratio: float = Field(default=0.2, ge=0, le=1)
    supplement_watch_working_days: int = Field(default=5, ge=1)
    idle_working_days: int = Field(default=3, ge=1)

    @property
    def policy(self) -> Policy:
        return Policy(
            yellow_working_days=self.yellow_working_days,
            yellow_ratio=self.yellow_ratio,
            supplement_watch_working_days=self.supplement_watch_working_days,
            idle_working_days=self.idle_working_days,
        )
