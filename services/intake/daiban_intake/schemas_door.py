"""Bodies of the door for outside systems: their registry (admins) and the batch of pushed events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from daiban_contracts.text import StoredText


class RegisterSystem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    system: Annotated[StoredText, Field(min_length=1, max_length=40)] = Field(
        description="The system's id: one NATS subject token, e.g. jiangshan-hall"
    )
    township: Annotated[StoredText, Field(pattern=r"^[0-9]{12}$")] = Field(
        description="The township (12 digits) whose subtree the system may push events about"
    )
    name: Annotated[StoredText, Field(min_length=1, max_length=100)] = Field(description="中文名称")
    types: list[Annotated[StoredText, Field(max_length=80)]] | None = Field(
        default=None,
        max_length=10,
        description="Event types it may push (of daiban_contracts.ingress); all of them when omitted",
    )


class SystemOut(BaseModel):
    system: str
    township: str
    township_name: str
    name: str
    types: list[str]
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None
    revoked_by: str | None


class SystemIssued(SystemOut):
    token: str = Field(description="The HTTP bearer token, shown this once; only its hash is kept")


class PushOutcome(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    refused = "refused"


class PushError(BaseModel):
    field: str = Field(description="Path in the pushed event: source, org, data.case_number, …")
    message: str


class PushResult(BaseModel):
    id: str | None = Field(description="The event's id, where it had one")
    result: PushOutcome
    reason: str | None = Field(default=None, description="Why it was refused (Chinese)")
    field: str | None = Field(default=None, description="The first field at fault")
    errors: list[PushError] = Field(default_factory=list)


class PushResults(BaseModel):
    results: list[PushResult] = Field(description="One per pushed event, in the order sent")
