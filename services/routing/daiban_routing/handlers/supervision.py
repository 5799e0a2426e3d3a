"""The supervision sweep (run by `jobs.py`): announce each flag raised or cleared once, as events.

The flags a sweep announced are kept in `routing.flags`, so the next sweep compares with them and
says nothing when nothing changed. A transaction-level advisory lock keeps two instances of the
service from sweeping at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from daiban_common.calendar import default_calendar, to_shanghai_date
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import FlagLevel
from daiban_contracts.routing import SupervisionFlagCleared, SupervisionFlagRaised
from daiban_routing.domain.supervision import Policy, evaluate
from daiban_routing.handlers import SYSTEM_ACTOR
from daiban_routing.models import Case, RaisedFlag
from daiban_routing.queries.supervision import open_cases

# Any constant unique to this job; advisory locks are per database, and each node has its own.
_LOCK_KEY = 0x726F7574


@dataclass(frozen=True)
class SweepResult:
    raised: int = 0
    cleared: int = 0
    skipped: bool = False


async def sweep(uow: UnitOfWork, policy: Policy, now: datetime) -> SweepResult:
    """Evaluate every open case as of `now` and announce what changed since the last sweep."""
    raised = cleared = 0
    async with uow:
        got = await uow.session.exec(select(func.pg_try_advisory_xact_lock(_LOCK_KEY)))
        if not got.first():
            return SweepResult(skipped=True)
        calendar = default_calendar()
        day = to_shanghai_date(now)
        announced = {f.case_number: f for f in await uow.session.exec(select(RaisedFlag))}
        after: str | None = None
        while batch := await open_cases(uow.session, [], after=after):
            for case, watch in batch:
                flag = evaluate(watch, day, calendar, policy)
                previous = announced.pop(case.case_number, None)
                if flag is not None and (previous is None or previous.level != flag.level.value):
                    row = previous or RaisedFlag(
                        case_number=case.case_number,
                        org=case.current_org,
                        level="",
                        reason="",
                        due_date=flag.due_date,
                        raised_at=now,
                    )
                    row.org, row.level, row.reason, row.due_date, row.raised_at = (
                        case.current_org,
                        flag.level.value,
                        flag.reason,
                        flag.due_date,
                        now,
                    )
                    uow.session.add(row)
                    uow.emit(
                        SupervisionFlagRaised(
                            case_number=case.case_number,
                            accepting_org=case.accepting_org,
                            org=case.current_org,
                            level=flag.level,
                            reason=flag.reason,
                            due_date=flag.due_date,
                            raised_at=now,
                        ),
                        subject=case.case_number,
                        org=case.current_org,
                        actor=SYSTEM_ACTOR,
                    )
                    raised += 1
                elif flag is None and previous is not None:
                    cleared += await _clear(uow, previous, case, now)
            after = batch[-1][0].case_number
        # Flags of cases no longer open (decided, handed back): cleared too.
        for previous in announced.values():
            cleared += await _clear(uow, previous, await uow.session.get(Case, previous.case_number), now)
        await uow.commit()
    return SweepResult(raised=raised, cleared=cleared)


async def _clear(uow: UnitOfWork, flag: RaisedFlag, case: Case | None, now: datetime) -> int:
    await uow.session.delete(flag)
    uow.emit(
        SupervisionFlagCleared(
            case_number=flag.case_number,
            accepting_org=case.accepting_org if case else flag.org,
            org=flag.org,
            level=FlagLevel(flag.level),
            cleared_at=now,
        ),
        subject=flag.case_number,
        org=flag.org,
        actor=SYSTEM_ACTOR,
    )
    return 1
