"""The case row of the hop handlers, read and written on the driver (daiban_common.uow.Prepared).

A case moving up is read once under its lock and written once when the handler is done with it,
with the handler's other rows.
Through the session that was an ORM load, its identity map and a flush working out what changed,
for an object nothing else in the transaction reads: a third of a forwarded case's Python calls.
The Case object the domain code changes is the same model class, outside any session.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import instrumentation

from daiban_common.uow import Prepared, UnitOfWork
from daiban_routing.models import Case

_CASES = Case.__table__  # type: ignore[attr-defined]
_COLUMNS: Final = tuple(c.name for c in _CASES.columns)
# What the summary says is fixed when the case is created: a write never needs to send it again.
_CHANGING: Final = tuple(name for name in _COLUMNS if name not in ("case_number", "summary"))

KNOWN_CASE: Final = Prepared(select(exists().where(_CASES.c.case_number == bindparam("number"))))
# Parallel tasks of a joint case are decided concurrently; one of them must see the other.
LOCKED_CASE: Final = Prepared(
    select(_CASES).where(_CASES.c.case_number == bindparam("number")).with_for_update()
)
NEW_CASE: Final = Prepared.insert(_CASES, _COLUMNS)
# Every column but the fixed ones (parameters are not named after columns: an UPDATE would take
# such a parameter as a column to SET).
CHANGED_CASE: Final = Prepared(
    update(_CASES)
    .where(_CASES.c.case_number == bindparam("of_case"))
    .values({name: bindparam(f"new_{name}", type_=_CASES.c[name].type) for name in _CHANGING})
)
_MANAGER: Final = instrumentation.manager_of_class(Case)


async def known(uow: UnitOfWork, number: str) -> bool:
    return bool(await uow.fetchval(KNOWN_CASE, {"number": number}))


async def locked(uow: UnitOfWork, number: str) -> Case | None:
    """The case, locked for the rest of the transaction; a Case no session knows (see `changed`)."""
    row = await uow.fetchrow(LOCKED_CASE, {"number": number})
    if row is None:
        return None
    # As the ORM builds an object it loads (no validation of what the database holds), but with
    # no session: its changes reach the database only through `changed`.
    case: Case = _MANAGER.new_instance()
    case.__dict__.update(row.items())
    return case


def created(uow: UnitOfWork, case: Case) -> None:
    """Write a case new to this node (built by the caller, in no session), deferred: in one
    statement with the hops, tasks and timeline lines of the same handler (uow.defer)."""
    uow.defer(NEW_CASE, {name: getattr(case, name) for name in _COLUMNS})


def changed(uow: UnitOfWork, case: Case) -> None:
    """Write back a case read with `locked`, once its handler has changed it (deferred too)."""
    values: dict[str, Any] = {f"new_{name}": getattr(case, name) for name in _CHANGING}
    values["of_case"] = case.case_number
    uow.defer(CHANGED_CASE, values)
