"""Decisions: a task's outcome, and a case's once every task of it is decided (联办件)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from daiban_contracts.case import Outcome


@dataclass(frozen=True, slots=True)
class TaskVerdict:
    department: str
    department_name: str
    lead: bool
    outcome: Outcome | None
    result: str | None = None
    reasons: tuple[str, ...] = ()
    legal_basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseVerdict:
    outcome: Outcome
    result: str | None
    reasons: tuple[str, ...]
    legal_basis: tuple[str, ...]


def combine(tasks: Sequence[TaskVerdict]) -> CaseVerdict | None:
    """The case's decision, or None while any task is undecided.

    A refusal by any department refuses the case, and the citizen is told every department's
    reasons at once (退回件明确答复), each prefixed with the department that gave it.
    """
    if not tasks or any(t.outcome is None for t in tasks):
        return None
    refused = [t for t in tasks if t.outcome is Outcome.refused]
    if refused:
        reasons = tuple(f"{t.department_name}：{reason}" for t in refused for reason in t.reasons)
        basis = tuple(dict.fromkeys(b for t in refused for b in t.legal_basis))
        return CaseVerdict(Outcome.refused, None, reasons, basis)
    lead = next((t for t in tasks if t.lead), tasks[0])
    others = [t.result for t in tasks if t is not lead and t.result]
    result = "；".join([lead.result or "", *others]).strip("；") or None
    return CaseVerdict(Outcome.approved, result, (), ())


def task_limits(limit_working_days: int, departments: int) -> list[int]:
    """Sub-deadlines of a case's tasks, lead first.

    The other departments of a joint item must finish one working day before the case's limit,
    so the lead department has a day to conclude; never less than one day.
    """
    if departments < 1:
        raise ValueError("a case has at least one task")
    other = max(1, limit_working_days - 1) if limit_working_days > 1 else limit_working_days
    return [limit_working_days] + [other] * (departments - 1)
