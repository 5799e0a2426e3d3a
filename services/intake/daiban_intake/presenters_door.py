"""Answers of the door's routes, built from what the handlers recorded."""

from __future__ import annotations

from daiban_intake.handlers.systems import Issued
from daiban_intake.models import OutsideSystem
from daiban_intake.schemas_door import SystemIssued, SystemOut


def system_out(row: OutsideSystem, names: dict[str, str]) -> SystemOut:
    return SystemOut(
        system=row.system,
        township=row.township,
        township_name=names.get(row.township, ""),
        name=row.name,
        types=list(row.types),
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


def issued(issued: Issued, names: dict[str, str]) -> SystemIssued:
    return SystemIssued(**system_out(issued.system, names).model_dump(), token=issued.token)
