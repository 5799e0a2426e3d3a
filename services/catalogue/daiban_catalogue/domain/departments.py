"""Departments as the catalogue knows them: the ids items name, with a Chinese name for people.

An id is `<tier>.<slug>` (see `daiban_contracts.catalogue`). The directory of concrete
departments per org unit (windows, staff, AB posts) belongs to routing; the catalogue only needs
to know which ids exist so that an item cannot name a department nobody can resolve.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from daiban_contracts.catalogue import Tier, department_tier


class Department(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    tier: Tier

    @model_validator(mode="after")
    def _tier_matches_code(self) -> Department:
        if department_tier(self.code) is not self.tier:
            raise ValueError(f"部门{self.code}的层级应为{department_tier(self.code).label}")
        return self
