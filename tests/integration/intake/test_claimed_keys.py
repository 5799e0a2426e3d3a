"""Acceptance's Idempotency-Key claimed by inserting its record (idempotency.claim, then settle).

The record's uncommitted key is the lock: a concurrent claim of the same key waits for the first
unit, then replays its committed answer (or takes the key, if the first rolled back), and a key
used with another body is a 409, whichever unit is first to commit.
"""

from __future__ import annotations

import asyncio

import pytest

from daiban_common.errors import Conflict
from daiban_common.idempotency import Answer, Claimed, Once, claim, settle
from tests.integration.intake.conftest import Intake

pytestmark = pytest.mark.integration

ANSWER = Answer(201, {"case_number": "办件-1"}, headers={"Location": "/v1/cases/x", "Date": "today"})


def _once(key: str, fingerprint: str = "f" * 64) -> Once:
    return Once("staff-1", "POST /v1/applications", key, fingerprint)


async def _claim_later(intake: Intake, once: Once) -> asyncio.Task[Answer | Claimed]:
    async def claimed() -> Answer | Claimed:
        async with intake.runtime.uow() as uow:
            return await claim(uow, once)

    task = asyncio.create_task(claimed())
    await asyncio.sleep(0.3)
    return task


async def test_a_concurrent_claim_waits_and_replays_the_committed_answer(intake: Intake) -> None:
    once = _once("claim-commit")
    async with intake.runtime.uow() as first:
        assert isinstance(await claim(first, once), Claimed)
        second = await _claim_later(intake, once)
        assert not second.done(), "the second claim must wait for the first unit"
        await settle(first, once, ANSWER)
        await first.commit()
    replayed = await second
    assert isinstance(replayed, Answer) and replayed.replayed
    assert (replayed.status_code, replayed.body, dict(replayed.headers)) == (
        201,
        {"case_number": "办件-1"},
        {"Location": "/v1/cases/x"},
    )
    assert replayed.rendered == ANSWER.rendered


async def test_a_concurrent_claim_takes_the_key_when_the_first_rolls_back(intake: Intake) -> None:
    once = _once("claim-rollback")
    async with intake.runtime.uow() as first:
        assert isinstance(await claim(first, once), Claimed)
        second = await _claim_later(intake, once)
        assert not second.done()
        await first.rollback()
    assert isinstance(await second, Claimed)


async def test_a_key_claimed_with_another_body_is_a_conflict(intake: Intake) -> None:
    async with intake.runtime.uow() as first:
        assert isinstance(await claim(first, _once("claim-other")), Claimed)
        await settle(first, _once("claim-other"), ANSWER)
        await first.commit()
    async with intake.runtime.uow() as second:
        with pytest.raises(Conflict):
            await claim(second, _once("claim-other", "e" * 64))
