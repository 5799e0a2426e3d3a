"""Replay and discard: each in one unit of work with the dead letter's new state, its audit event
and the answer kept for retries under the same Idempotency-Key.

A replay applies the event in the same unit of work as its consumer's inbox row, through the
consumer's own handler (`EventConsumer.apply_again`): it applies at most once however often it is
replayed, corrected or redelivered. When it fails, nothing of it stays but the record of the
attempt (and its audit event), written in a unit of work of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row

from daiban_common import clock
from daiban_common.auth import Principal, can_see
from daiban_common.consumer import EventConsumer
from daiban_common.deadletters import rules, store
from daiban_common.deadletters.rules import Status
from daiban_common.deadletters.schemas import ReplayIn
from daiban_common.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from daiban_common.faults import is_unavailable
from daiban_common.idempotency import Answering, Once, Replayed, remember, replayed
from daiban_common.runtime import ServiceRuntime
from daiban_common.uow import UnitOfWork
from daiban_contracts.deadletters import DeadLetterDiscarded, DeadLetterReplayed
from daiban_contracts.envelope import Envelope, EventData


@dataclass(frozen=True)
class ReplayResult:
    outcome: Literal["applied", "duplicate"]
    row: Row[Any]


class ConsumerGone(Conflict):
    type = "/problems/dead-letter-consumer-gone"
    title = "The consumer of the dead letter no longer exists"


class ReplayFailed(Conflict):
    type = "/problems/dead-letter-replay-failed"
    title = "The replayed event failed again"


def not_found() -> NotFound:
    return NotFound("死信不存在，或不在您的辖区内")


def scope_of(runtime: ServiceRuntime, principal: Principal) -> store.Scope:
    return store.Scope(principal.org_code, runtime.node_org)


async def replay(
    runtime: ServiceRuntime,
    uow: UnitOfWork,
    principal: Principal,
    dead_letter_id: int,
    correction: ReplayIn,
    once: Once,
    answering: Answering[ReplayResult],
) -> ReplayResult | Replayed:
    table = runtime.tables.dead_letters
    async with uow:
        row = await _open_one(runtime, uow, principal, dead_letter_id, once)
        if isinstance(row, Replayed):
            return row
        corrected = correction.data is not None or correction.envelope is not None
        envelope = rules.replay_envelope(
            row.payload, row.event_id, data=correction.data, envelope=correction.envelope
        )
        if corrected and not can_see(principal, envelope.org):
            raise InvalidInput.field("envelope.org", f"单位{envelope.org}不在您的辖区内")
        consumer = _consumer(runtime, row.consumer)
        try:
            # Delivered where it was: the subject is what the broker vouched for (an ingress
            # subject names the system that pushed it), and a correction cannot change it.
            applied = await consumer.apply_again(uow, envelope, row.subject)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_unavailable(exc):
                raise
            failure = rules.short_error(str(exc) or type(exc).__name__)
        else:
            outcome: Literal["applied", "duplicate"] = "applied" if applied else "duplicate"
            now = clock.now()
            settled = await store.change(
                await uow.session.connection(),
                table,
                dead_letter_id,
                status=Status.replayed.value,
                resolved_at=now,
                resolved_by=principal.sub,
                replay_outcome=outcome,
                replay_attempts=row.replay_attempts + 1,
                last_replay_at=now,
                replayed_envelope=envelope.model_dump_json() if corrected else None,
            )
            _emit_replayed(runtime, uow, principal, row, envelope, outcome, corrected, None)
            result = ReplayResult(outcome, settled)
            await remember(uow, once, answering(result))
            await uow.commit()
            return result
    await _record_failure(runtime, uow, principal, dead_letter_id, envelope, corrected, failure)
    raise ReplayFailed(
        f"重放失败，事件仍未生效：{failure}",
        extensions={"reason": failure, "replay_attempts": row.replay_attempts + 1},
    )


async def _record_failure(
    runtime: ServiceRuntime,
    uow: UnitOfWork,
    principal: Principal,
    dead_letter_id: int,
    envelope: Envelope,
    corrected: bool,
    failure: str,
) -> None:
    """The failed attempt, on its own: the replay's unit of work rolled back whole."""
    table = runtime.tables.dead_letters
    async with uow:
        conn = await uow.session.connection()
        row = await store.one(conn, table, dead_letter_id, scope_of(runtime, principal), lock=True)
        if row is None or row.status != Status.open:
            return  # settled meanwhile by someone else: their record stands
        await store.change(
            conn,
            table,
            dead_letter_id,
            replay_attempts=row.replay_attempts + 1,
            last_replay_at=clock.now(),
            last_replay_error=failure,
        )
        _emit_replayed(runtime, uow, principal, row, envelope, "failed", corrected, failure)
        await uow.commit()


async def discard(
    runtime: ServiceRuntime,
    uow: UnitOfWork,
    principal: Principal,
    dead_letter_id: int,
    reason: str,
    once: Once,
    answering: Answering[Row[Any]],
) -> Row[Any] | Replayed:
    reason = rules.discard_reason(reason)
    table = runtime.tables.dead_letters
    async with uow:
        row = await _open_one(runtime, uow, principal, dead_letter_id, once)
        if isinstance(row, Replayed):
            return row
        settled = await store.change(
            await uow.session.connection(),
            table,
            dead_letter_id,
            status=Status.discarded.value,
            resolved_at=clock.now(),
            resolved_by=principal.sub,
            discard_reason=reason,
        )
        _emit(runtime, uow, principal, row, DeadLetterDiscarded(**_fact(runtime, row), reason=reason))
        await remember(uow, once, answering(settled))
        await uow.commit()
        return settled


async def _open_one(
    runtime: ServiceRuntime, uow: UnitOfWork, principal: Principal, dead_letter_id: int, once: Once
) -> Row[Any] | Replayed:
    """The first answer of a retried request; else the dead letter, row-locked until the unit of
    work ends, if the caller sees it (404) and it is still open (409)."""
    if (done := await replayed(uow, once)) is not None:
        return done
    conn = await uow.session.connection()
    scope = scope_of(runtime, principal)
    row = await store.one(conn, runtime.tables.dead_letters, dead_letter_id, scope, lock=True)
    if row is None:
        raise not_found()
    rules.ensure_open(row.status)
    return row


def _consumer(runtime: ServiceRuntime, name: str) -> EventConsumer:
    for consumer in runtime.consumers:
        if consumer.name == name:
            return consumer
    if not runtime.bus_ready.is_set():
        raise ServiceUnavailable("服务尚未连接消息总线，暂时无法重放，请稍后重试")
    raise ConsumerGone(f"本服务已没有消费者{name}，无法重放；如该事件无需处理，请丢弃并说明理由")


def _fact(runtime: ServiceRuntime, row: Row[Any]) -> dict[str, Any]:
    return {
        "service": runtime.spec.name,
        "dead_letter_id": row.id,
        "consumer": row.consumer,
        "parked_event_id": row.event_id,
        "parked_type": row.type,
    }


def _emit_replayed(
    runtime: ServiceRuntime,
    uow: UnitOfWork,
    principal: Principal,
    row: Row[Any],
    envelope: Envelope,
    outcome: Literal["applied", "duplicate", "failed"],
    corrected: bool,
    error: str | None,
) -> None:
    payload = DeadLetterReplayed(**_fact(runtime, row), outcome=outcome, corrected=corrected, error=error)
    _emit(runtime, uow, principal, row, payload, subject=envelope.subject)


def _emit(
    runtime: ServiceRuntime,
    uow: UnitOfWork,
    principal: Principal,
    row: Row[Any],
    payload: EventData,
    *,
    subject: str | None = None,
) -> None:
    """Addressed where the dead letter's unit is logged, about the parked event's subject (a case
    number: the replay shows in the case's audit trail), by the person who acted."""
    parked = rules.stored_envelope(row.payload) or {}
    about = subject or parked.get("subject")
    uow.emit(
        payload,
        subject=about if isinstance(about, str) and about else f"dead-letter/{runtime.spec.name}/{row.id}",
        org=rules.audit_org(runtime.topology, row.org),
        actor=principal.sub,
    )
