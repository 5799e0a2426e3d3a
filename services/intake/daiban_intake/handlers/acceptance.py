"""Accepting an application (受理): a case with a receipt, or a one-time notice.

Both outcomes commit and are results (`Accepted`, `NoticeIssued`): the notice is kept and counted
(its event is emitted in the same unit of work). The route answers them (201, or the 422 one-time
notice); that answer is stored for replay like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from daiban_common import clock
from daiban_common.auth import KnownOrgs, Principal, can_see
from daiban_common.calendar import WorkCalendar, default_calendar, to_shanghai_date
from daiban_common.errors import FieldError, InvalidInput, NotFound, Problem
from daiban_common.idempotency import Answer, AnswerOf, Once, Replayed, claim, forget_old, kept, settle
from daiban_common.orgunits import CachedKeySet
from daiban_common.uow import UnitOfWork
from daiban_contracts.case import (
    CaseAccepted,
    CaseSummary,
    ConditionalReminder,
    MaterialIssue,
    OneTimeNoticeIssued,
    OnTheSpotResult,
    Outcome,
)
from daiban_contracts.catalogue import ItemVersionData
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain import acceptance, applicants, numbers
from daiban_intake.domain.materials import (
    MaterialCheck,
    Presented,
    Promised,
    check_materials,
    issue_field,
    validate_codes,
)
from daiban_intake.domain.progress import CaseStatus, Stage
from daiban_intake.handlers.common import claim_number, insert_case, staff_record, staff_ref, stage_row
from daiban_intake.models import Case, OneTimeNotice
from daiban_intake.queries.cases import case_orgs
from daiban_intake.queries.items import ParsedItems, item_in_force
from daiban_intake.queries.orgs import org_names
from daiban_intake.schemas import AcceptApplication


@dataclass(frozen=True)
class AcceptancePoint:
    """Where this node accepts and what personal data is hashed with: one per process (the context)."""

    node: OrgCode
    salt: str
    calendar: WorkCalendar = field(default_factory=default_calendar)
    # Org units below this node that run a node of their own (DAIBAN_CHILD_NODES): they accept there.
    child_nodes: tuple[OrgCode, ...] = ()
    # The county's org units as routing publishes them: a case is never accepted where routing
    # has no such unit (it could not take the case, which would wait at "accepted" for ever).
    known_orgs: KnownOrgs | None = None
    # Item versions parsed from the replica (immutable, so kept).
    items: ParsedItems = field(default_factory=ParsedItems)

    @property
    def first_sequence(self) -> int:
        """Where a day's count of an org unit starts at this node (numbers.first_sequence)."""
        return numbers.first_sequence(self.node)


@dataclass(frozen=True)
class Accepted:
    """A case opened (perhaps concluded on the spot); its receipt is printable at once."""

    case: Case
    # The names of the org units the receipt shows (code -> name).
    names: dict[str, str]


@dataclass(frozen=True)
class NoticeIssued:
    """Materials missing or unfit: no case, a one-time notice listing every issue at once, and the
    conditional materials the application did not claim, with their conditions."""

    notice: OneTimeNotice
    issues: tuple[MaterialIssue, ...]
    # Where each issue points in the request (`materials[2].form`), in the order of `issues`.
    fields: tuple[str, ...]
    reminders: tuple[ConditionalReminder, ...] = ()
    # The names of the org units the notice shows (code -> name).
    names: dict[str, str] = field(default_factory=dict)


Acceptance = Accepted | NoticeIssued


async def _accepting_org(raw: str, principal: Principal, point: AcceptancePoint) -> OrgCode:
    try:
        org = OrgCode.parse(raw)
    except InvalidOrgCode as exc:
        raise InvalidInput.field("org", str(exc)) from None
    if not can_see(principal, org) or not org.is_within(point.node):
        raise NotFound("受理单位不存在或不在您的管辖范围内", errors=[FieldError("org", "不在您的管辖范围内")])
    child = next((c for c in point.child_nodes if org.is_within(c)), None)
    if child is not None:
        raise InvalidInput.field("org", f"受理单位{org.value}由{child.value}的独立节点受理，请在该节点办理")
    if point.known_orgs is not None and not await point.known_orgs.is_known(org.value):
        raise InvalidInput.field("org", f"区划单位{org.value}不在本县区划目录中，无法在此受理")
    return org


def _applicant(command: AcceptApplication, today: date) -> applicants.Applicant:
    a = command.applicant
    if a.kind == "person":
        if not a.id_number:
            raise InvalidInput.field("applicant.id_number", "自然人申请须填写身份证号码")
        return applicants.person(
            name=a.name, id_number=a.id_number, phone=a.phone, address=a.address, today=today
        )
    if not a.credit_code:
        raise InvalidInput.field("applicant.credit_code", "法人申请须填写统一社会信用代码")
    return applicants.organisation(
        name=a.name, credit_code=a.credit_code, legal_representative=a.legal_representative, phone=a.phone
    )


async def accept_application(
    command: AcceptApplication,
    *,
    principal: Principal,
    point: AcceptancePoint,
    once: Once,
    answer: AnswerOf[Acceptance],
    uow: UnitOfWork,
) -> Acceptance | Replayed:
    """Check the application against the item version in force and accept it, or issue a notice."""
    now = clock.now()
    today = to_shanghai_date(now)
    org = await _accepting_org(command.org, principal, point)
    applicant = _applicant(command, today)
    representative = None
    if command.representative is not None:
        r = command.representative
        representative = applicants.representative(
            name=r.name, id_number=r.id_number, phone=r.phone, relation=r.relation, today=today
        )
    presented = [Presented(m.code, m.form, m.copies) for m in command.materials]
    promised = [Promised(d.code, d.due_date) for d in command.deficiencies]
    # Every org unit an answer shows: where it was accepted (and decided, on the spot), and whose.
    names = await _cached_names(point, [org.value, principal.org])
    async with uow:
        try:
            item, check = await _checked(command, org, principal, point, presented, promised, today, uow)
        except Problem as refused:
            # A stored answer wins over what the application would be refused for now (its item
            # withdrawn since, say): a retry replays.
            if refused.status < 500 and isinstance(stored := await claim(uow, once), Answer):
                return Replayed(stored)
            raise
        kind = "case" if check.complete else "notice"
        numbered = await claim_number(uow, once, kind, org.value, today, first=point.first_sequence)
        if isinstance(numbered, Answer):
            return Replayed(numbered)
        result: Acceptance
        if not check.complete:
            fields = tuple(issue_field(issue, presented, promised) for issue in check.issues)
            claimed = tuple(command.conditions_met)
            result = await _issue_notice(
                item, check, fields, claimed, applicant, org, principal, numbered, names, now, uow
            )
            await settle(uow, once, answer(result))
        else:
            result = await _open_case(
                command,
                item,
                check,
                applicant,
                representative,
                org,
                principal,
                point,
                names,
                now,
                uow,
                sequence=numbered,
                once=once,
                answer=answer,
            )
        await uow.commit()
    return result


async def _checked(
    command: AcceptApplication,
    org: OrgCode,
    principal: Principal,
    point: AcceptancePoint,
    presented: list[Presented],
    promised: list[Promised],
    today: date,
    uow: UnitOfWork,
) -> tuple[ItemVersionData, MaterialCheck]:
    """The item version in force, acceptable here, and the materials checked against it."""
    item = acceptance.ensure_acceptable(
        await item_in_force(uow.session, command.item_code, org, today, point.items),
        org=org,
        channel=command.channel,
    )
    validate_codes(item.materials, presented, promised, today=today, claimed=command.conditions_met)
    check = check_materials(item.materials, presented, promised, claimed=set(command.conditions_met))
    if check.complete and command.on_the_spot is not None:
        acceptance.ensure_on_the_spot_allowed(
            item,
            org=org,
            role=principal.role,
            has_deficiencies=bool(check.deficiencies),
            refused_without_reason=(
                command.on_the_spot.outcome is Outcome.refused and not command.on_the_spot.reasons
            ),
        )
    return item, check


async def _cached_names(point: AcceptancePoint, codes: list[str]) -> dict[str, str] | None:
    """Names from the known-orgs cache (reloaded as the replica changes); None without one.

    Read before the unit of work: a reload takes a connection of its own, and one taken while the
    request holds another could wait for ever on a pool that concurrent requests have emptied.
    """
    if isinstance(point.known_orgs, CachedKeySet):
        return await point.known_orgs.names(codes)
    return None


async def _issue_notice(
    item: ItemVersionData,
    check: MaterialCheck,
    fields: tuple[str, ...],
    conditions_met: tuple[str, ...],
    applicant: applicants.Applicant,
    org: OrgCode,
    principal: Principal,
    sequence: int,
    names: dict[str, str] | None,
    now: datetime,
    uow: UnitOfWork,
) -> NoticeIssued:
    day = to_shanghai_date(now)
    number = numbers.notice_number(org.value, day, sequence)
    notice = OneTimeNotice(
        number=number,
        org=org.value,
        item_code=item.implementation_code,
        item_version=item.version,
        item_name=item.name,
        applicant_name=applicant.name,
        issued_by=staff_record(principal),
        issues=[issue.model_dump(mode="json") for issue in check.issues],
        conditional=[reminder.model_dump(mode="json") for reminder in check.reminders],
        issued_at=now,
    )
    uow.session.add(notice)
    uow.emit(
        OneTimeNoticeIssued(
            notice_number=number,
            item_implementation_code=item.implementation_code,
            item_name=item.name,
            org=org.value,
            issued_by=staff_ref(principal),
            issues=check.issues,
            issued_at=now,
            reminders=check.reminders,
            conditions_met=conditions_met,
        ),
        subject=number,
        org=org.value,
        actor=principal.sub,
    )
    if names is None:
        names = await org_names(uow.session, [org.value, principal.org])
    return NoticeIssued(notice, check.issues, fields, check.reminders, names)


async def _open_case(
    command: AcceptApplication,
    item: ItemVersionData,
    check: MaterialCheck,
    applicant: applicants.Applicant,
    representative: applicants.Representative | None,
    org: OrgCode,
    principal: Principal,
    point: AcceptancePoint,
    names: dict[str, str] | None,
    now: datetime,
    uow: UnitOfWork,
    *,
    sequence: int,
    once: Once,
    answer: AnswerOf[Acceptance],
) -> Accepted:
    day = to_shanghai_date(now)
    number = numbers.case_number(org.value, day, sequence)
    promised = acceptance.promised_date(point.calendar, day, item)
    material_names = {m.code: m.name for m in item.materials}
    values: dict[str, Any] = {
        "number": number,
        "org": org.value,
        "item_code": item.implementation_code,
        "item_version": item.version,
        "item": item.model_dump(mode="json"),
        "channel": command.channel.value,
        "applicant": applicant.as_record(),
        "representative": representative.as_record() if representative else None,
        "materials": [
            {"code": m.code, "name": material_names[m.code], "form": m.form.value, "copies": m.copies}
            for m in command.materials
        ],
        "conditions_met": list(command.conditions_met),
        "deficiencies": [
            {
                "code": d.material_code,
                "name": d.material_name,
                "due_date": d.due_date.isoformat(),
                "supplied_at": None,
            }
            for d in check.deficiencies
        ],
        "green_channel": command.green_channel,
        "first_responder": staff_record(principal),
        "query_code": numbers.new_query_code(),
        "accepted_at": now,
        "promised_date": promised.date,
        "promised_date_provisional": promised.provisional,
        "due_date": promised.date,
        "due_date_provisional": promised.provisional,
        "status": CaseStatus.accepted.value,
        "holding_org": org.value,
        "reasons": [],
        "legal_basis": [],
        "pending_supplement": [],
    }
    stages = [stage_row(Stage.accepted, org.value, now)]
    on_the_spot = None
    if command.on_the_spot is not None:
        spot = command.on_the_spot
        on_the_spot = OnTheSpotResult(
            outcome=spot.outcome, result=spot.result, decided_by=staff_ref(principal)
        )
        # Decided at the window where the citizen stands: the result is theirs to collect at once.
        values |= {
            "status": CaseStatus.ready_for_handover.value,
            "outcome": spot.outcome.value,
            "result": spot.result,
            "reasons": list(spot.reasons),
            "deciding_org": org.value,
            "decided_at": now,
        }
        stages.append(stage_row(Stage.concluded_on_the_spot, org.value, now, spot.outcome.label))
    # Built without SQLAlchemy's instance state (every field in its __dict__, defaults included,
    # which is where attribute reads look first): never to be added to a session. Case(**values)
    # sent each of its 32 fields through the ORM's instrumentation, ~630 Python calls.
    case = Case.model_construct(**values)
    result = Accepted(case, names if names is not None else await org_names(uow.session, case_orgs(case)))
    uow.emit(
        CaseAccepted(
            case=CaseSummary(
                case_number=number,
                item=acceptance.item_ref(item),
                accepting_org=org.value,
                channel=command.channel,
                applicant=applicants.applicant_ref(applicant, point.salt),
                first_responder=staff_ref(principal),
                accepted_at=now,
                promised_date=promised.date,
                promised_date_provisional=promised.provisional,
                green_channel=command.green_channel,
                deficiencies=check.deficiencies,
                conditions_met=tuple(command.conditions_met),
            ),
            on_the_spot=on_the_spot,
        ),
        subject=number,
        org=org.value,
        actor=principal.sub,
    )
    # The case, its stages, the answer for replays and the event in one statement (one round trip),
    # without the ORM's unit of work: nothing reads the case back in this transaction, and the
    # object above is only for the answer, which is made from the values alone.
    await insert_case(uow, values, stages, answered=kept(once, answer(result)))
    await forget_old(uow)
    return result
