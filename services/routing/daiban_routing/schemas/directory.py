"""Request and response bodies of the directory API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from daiban_common.auth import Role
from daiban_common.strict import Instant, StrictBool
from daiban_contracts.catalogue import DEPARTMENT_CODE_PATTERN
from daiban_contracts.text import StoredText

ORG_PATTERN = r"^[0-9]{12}$"
STAFF_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ServicePoint(_In):
    name: StoredText = Field(max_length=100)
    address: StoredText = Field(max_length=200)
    phone: StoredText = Field(max_length=40)
    opening_hours: StoredText = Field(max_length=200)


class OrgOut(BaseModel):
    code: str
    name: str
    tier: str
    tier_label: str
    parent_code: str | None
    service_point: ServicePoint


class OrgDetailOut(OrgOut):
    children: list[OrgOut]


class DepartmentIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"org": "370285101000", "code": "township.civil_affairs", "name": "姜山镇民政办公室"}
            ]
        }
    )

    org: str = Field(pattern=ORG_PATTERN)
    code: str = Field(pattern=DEPARTMENT_CODE_PATTERN, max_length=64)
    name: StoredText = Field(min_length=1, max_length=100)


class DepartmentUpdate(_In):
    name: StoredText = Field(min_length=1, max_length=100)


class DepartmentOut(BaseModel):
    id: str
    org: str
    code: str
    name: str


class WindowIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "org": "370285101000",
                    "number": "01",
                    "name": "民政窗口",
                    "departments": ["township.civil_affairs"],
                    "a_post": "jsz-mz-a",
                    "b_post": "jsz-mz-b",
                }
            ]
        }
    )

    org: str = Field(pattern=ORG_PATTERN)
    number: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$")
    name: StoredText = Field(min_length=1, max_length=100)
    departments: list[StoredText] = Field(min_length=1, max_length=20)
    a_post: StoredText | None = Field(default=None, max_length=64)
    b_post: StoredText | None = Field(default=None, max_length=64)


class WindowOut(BaseModel):
    id: str
    org: str
    number: str
    name: str
    departments: list[str]
    a_post: str | None
    b_post: str | None


class StaffIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "staff_id": "jsz-mz-a",
                    "name": "王丽",
                    "role": "clerk",
                    "org": "370285101000",
                    "windows": ["01"],
                }
            ]
        }
    )

    staff_id: str = Field(pattern=STAFF_ID_PATTERN, description="The person's token subject")
    name: StoredText = Field(min_length=1, max_length=50)
    role: Role
    org: str = Field(pattern=ORG_PATTERN)
    windows: list[StoredText] = Field(default_factory=list, max_length=20)


class StaffUpdate(_In):
    name: StoredText = Field(min_length=1, max_length=50)
    role: Role
    windows: list[StoredText] = Field(default_factory=list, max_length=20)


class DutyIn(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "on_duty": True,
                    "absent_from": "2026-12-01T00:00:00+08:00",
                    "absent_until": "2026-12-04T00:00:00+08:00",
                    "reason": "年休假",
                }
            ]
        }
    )

    on_duty: StrictBool
    absent_from: Instant | None = None
    absent_until: Instant | None = None
    reason: StoredText | None = Field(default=None, max_length=200)


class StaffOut(BaseModel):
    staff_id: str = Field(description="The person's token subject")
    name: str
    role: str
    role_label: str
    org: str
    windows: list[str]
    on_duty: bool
    on_duty_now: bool
    absent_from: datetime | None
    absent_until: datetime | None
    absence_reason: str | None


class ImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int


class PublicServicePointOut(BaseModel):
    """A service point as anyone may read it (no token): where to go, when, whom to call.

    Only the org unit's public face: never its staff, windows or duty."""

    code: str = Field(description="12-digit code of the org unit the point serves")
    name: str = Field(description="The point's name (便民服务中心/代办点); the org's name if it has none")
    org_name: str
    tier: str
    tier_label: str
    address: str
    opening_hours: str
    phone: str
    parent_code: str | None
    parent_name: str | None
