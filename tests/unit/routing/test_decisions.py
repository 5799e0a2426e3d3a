import pytest

from daiban_contracts.case import Outcome
from daiban_routing.domain.decisions import TaskVerdict, combine, task_limits


def verdict(
    dept: str, outcome: Outcome | None, *, lead: bool = False, reasons: tuple[str, ...] = ()
) -> TaskVerdict:
    return TaskVerdict(
        dept,
        f"{dept}局",
        lead,
        outcome,
        result=f"{dept}-ok" if outcome is Outcome.approved else None,
        reasons=reasons,
        legal_basis=(f"{dept}法第1条",) if reasons else (),
    )


def test_undecided_until_every_task_is() -> None:
    assert combine([verdict("a", Outcome.approved, lead=True), verdict("b", None)]) is None


def test_every_approval_approves_with_the_lead_result_first() -> None:
    got = combine([verdict("b", Outcome.approved), verdict("a", Outcome.approved, lead=True)])
    assert got is not None and got.outcome is Outcome.approved and got.result == "a-ok；b-ok"


def test_one_refusal_refuses_with_every_reason() -> None:
    got = combine(
        [
            verdict("a", Outcome.approved, lead=True),
            verdict("b", Outcome.refused, reasons=("不符合条件", "材料不实")),
            verdict("c", Outcome.refused, reasons=("超出范围",)),
        ]
    )
    assert got is not None and got.outcome is Outcome.refused
    assert got.reasons == ("b局：不符合条件", "b局：材料不实", "c局：超出范围")
    assert got.legal_basis == ("b法第1条", "c法第1条")


def test_sub_deadlines_leave_the_lead_a_day() -> None:
    assert task_limits(10, 3) == [10, 9, 9]
    assert task_limits(1, 2) == [1, 1]
    with pytest.raises(ValueError):
        task_limits(5, 0)
