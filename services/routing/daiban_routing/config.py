"""Routing's own settings (`DAIBAN_ROUTING_*`), next to the platform's `DAIBAN_*` ones."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from daiban_common.orgcodes import OrgCode
from daiban_routing.domain.supervision import Policy


class RoutingConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAIBAN_ROUTING_", extra="ignore")

    # How often the running service re-evaluates supervision flags; 0 switches the sweep off.
    sweep_interval_seconds: float = Field(default=60.0, ge=0)
    yellow_working_days: int = Field(default=1, ge=0)
    yellow_ratio: float = Field(default=0.2, ge=0, le=1)
    supplement_watch_working_days: int = Field(default=5, ge=1)
    idle_working_days: int = Field(default=3, ge=1)
    # Org units run by nodes of their own (township nodes): this node leaves their events to them.
    child_nodes: list[str] = Field(default_factory=list)
    # The `code,name,level,parent_code` CSV the demo directory loads (default: the project's data/).
    divisions_csv: Path | None = None

    @property
    def policy(self) -> Policy:
        return Policy(
            yellow_working_days=self.yellow_working_days,
            yellow_ratio=self.yellow_ratio,
            supplement_watch_working_days=self.supplement_watch_working_days,
            idle_working_days=self.idle_working_days,
        )


class Hosting:
    """Which org units this node acts for: its subtree, minus subtrees that run their own node."""

    def __init__(self, node_org: str, child_nodes: list[str]) -> None:
        self._node = OrgCode.parse(node_org)
        self._children = [OrgCode.parse(code) for code in child_nodes]

    def hosts(self, org: str) -> bool:
        code = OrgCode.parse(org)
        return code.is_within(self._node) and not any(code.is_within(c) for c in self._children)
