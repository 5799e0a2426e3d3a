"""Events of the directory (routing owns it): its org units, and every edit of its entries.

Routing is the only producer. `OrgUnitsPublished` carries every org unit of one county whenever the
units change (a seed or an import of division codes); every service that authenticates people keeps
a replica of them, so that a token of an org unit the county does not have is refused everywhere
alike (see `daiban_common.orgunits`). `StaffPublished` carries every staff member of the county
after a seed, so that intake refuses staff actions of a token whose subject is nobody of the
directory (see `daiban_common.staffdir`). The other events say what one edit changed, with the entry
before and after it, who changed it and when, so the audit log shows, for instance, who was A post
and B post of a window before and after a supervisor changed it.

Personal data: staff are named (they act for the administration and events name them elsewhere
too); the free-text reason of an absence is not carried, since it may be about someone's health,
only whether one was given.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from daiban_contracts.envelope import EventData, event_type
from daiban_contracts.orgcodes import Tier

__all__ = [
    "Change",
    "ChangeSource",
    "DepartmentChanged",
    "DepartmentEntry",
    "DutyChanged",
    "DutyEntry",
    "OrgUnitEntry",
    "OrgUnitsPublished",
    "ServicePointChanged",
    "ServicePointEntry",
    "StaffChanged",
    "StaffEntry",
    "StaffMember",
    "StaffPublished",
    "WindowChanged",
    "WindowEntry",
    "directory_subject",
]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class ChangeSource(StrEnum):
    """How the change was made: one edit through the API, or a row of a CSV import."""

    api = "api"
    csv_import = "csv_import"


def directory_subject(kind: str, *key: str) -> str:
    """The envelope subject of a directory event, e.g. `window:370285101000:01`, `staff:jsz-mz-a`."""
    return ":".join((kind, *key))


class OrgUnitEntry(_Wire):
    code: str = Field(pattern=r"^[0-9]{12}$")
    name: str
    tier: Tier
    parent_code: str | None = None


@event_type("daiban.directory.org_units_published.v1")
class OrgUnitsPublished(EventData):
    """Every org unit of `county` (itself included); a unit not listed is no longer one."""

    county: str = Field(pattern=r"^[0-9]{12}$")
    units: tuple[OrgUnitEntry, ...]
    published_at: datetime


class ServicePointEntry(_Wire):
    name: str
    address: str
    phone: str = Field(description="The office's phone, not a person's")
    opening_hours: str


@event_type("daiban.directory.service_point_changed.v1")
class ServicePointChanged(EventData):
    org: str
    org_name: str
    before: ServicePointEntry
    after: ServicePointEntry
    changed_by: str = Field(description="The token subject of whoever changed it")
    changed_at: datetime


class DepartmentEntry(_Wire):
    org: str
    code: str
    name: str


@event_type("daiban.directory.department_changed.v1")
class DepartmentChanged(EventData):
    department_id: str
    change: Change
    source: ChangeSource
    before: DepartmentEntry | None = Field(description="None when created")
    after: DepartmentEntry | None = Field(description="None when deleted")
    changed_by: str
    changed_at: datetime


class WindowEntry(_Wire):
    org: str
    number: str
    name: str
    departments: tuple[str, ...]
    a_post: str | None = Field(description="Staff id of the A post (A岗)")
    b_post: str | None = Field(description="Staff id of the B post (B岗)")


@event_type("daiban.directory.window_changed.v1")
class WindowChanged(EventData):
    window_id: str
    change: Change
    source: ChangeSource
    before: WindowEntry | None
    after: WindowEntry | None
    changed_by: str
    changed_at: datetime


class StaffEntry(_Wire):
    staff_id: str
    org: str
    name: str
    role: str
    windows: tuple[str, ...]


@event_type("daiban.directory.staff_changed.v1")
class StaffChanged(EventData):
    staff_id: str
    change: Change
    source: ChangeSource
    before: StaffEntry | None
    after: StaffEntry | None
    changed_by: str
    changed_at: datetime


class StaffMember(_Wire):
    staff_id: str = Field(description="The subject (`sub`) of the person's token")
    org: str = Field(pattern=r"^[0-9]{12}$")


@event_type("daiban.directory.staff_published.v1")
class StaffPublished(EventData):
    """Every staff member of `county` and where they work, as the directory holds them.

    Routing publishes it when a seed changed its people (a seed's people are not anyone's edit, so
    no `StaffChanged` is emitted for them); each edit through the API or an import, removals
    included, is a `StaffChanged`.
    """

    county: str = Field(pattern=r"^[0-9]{12}$")
    staff: tuple[StaffMember, ...]
    published_at: datetime


class DutyEntry(_Wire):
    on_duty: bool
    absent_from: datetime | None = None
    absent_until: datetime | None = None
    reason_given: bool = Field(default=False, description="The reason itself stays in the directory")


@event_type("daiban.directory.duty_changed.v1")
class DutyChanged(EventData):
    staff_id: str
    org: str
    before: DutyEntry
    after: DutyEntry
    changed_by: str
    changed_at: datetime
