"""The door's rules: what an outside system may push, and how a pushed event becomes a command.

No I/O here. A pushed event is checked against what the registry says of its system (types,
township) and against itself (source, org, payload), then turned into the input of the same command
a window or a citizen uses; whatever that command refuses is refused with the field of the event
at fault, so a township's IT team can find it in what they sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from daiban_common.errors import FieldError, Problem
from daiban_contracts.case import CaseEvaluated, CaseSupplemented, ComplaintFiled
from daiban_contracts.catalogue import Material, MaterialForm
from daiban_contracts.envelope import Envelope, EventData, UnknownEventType, payload_class
from daiban_contracts.ingress import INGRESS_TYPES, InvalidSystemId, check_system_id, system_source
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier
from daiban_intake.domain.materials import Presented

# At most this many events in one HTTP batch; a system with more sends several batches.
MAX_BATCH = 100


@dataclass(frozen=True)
class Door:
    """A registered outside system as the door sees it."""

    system: str
    township: OrgCode
    name: str
    types: frozenset[str]
    revoked: bool = False


class Refused(Exception):
    """A pushed event that will never apply as sent: the reason (Chinese) and the fields at fault."""

    def __init__(self, reason: str, errors: Sequence[FieldError]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = list(errors)

    @classmethod
    def field(cls, field: str, message: str) -> Refused:
        return cls(message, [FieldError(field, message)])

    def __str__(self) -> str:
        fields = "；".join(f"{e.field}：{e.message}" for e in self.errors if e.message != self.reason)
        return f"{self.reason}（{fields}）" if fields else self.reason


def _type_names(types: frozenset[str]) -> str:
    return "、".join(sorted(types))


def parse_envelope(raw: Any) -> Envelope:
    """A structured-mode CloudEvent of the contracts; Refused naming the attribute at fault."""
    if not isinstance(raw, dict):
        raise Refused.field("", "每个事件须是一个JSON对象（CloudEvents结构化格式）")
    try:
        return Envelope.model_validate(raw)
    except ValidationError as exc:
        raise Refused("不是有效的事件信封（CloudEvents 1.0 + org）", _field_errors(exc)) from None


def check_pushed(envelope: Envelope, door: Door | None, system: str) -> EventData:
    """The typed payload of an event `system` pushed, once every rule of the door holds."""
    try:
        check_system_id(system)
    except InvalidSystemId as exc:
        raise Refused.field("source", str(exc)) from None
    if door is None or door.revoked:
        raise Refused.field("source", f"外部系统{system}未登记或已停用")
    if envelope.type not in INGRESS_TYPES:
        raise Refused.field("type", f"外部系统只能推送以下类型的事件：{_type_names(INGRESS_TYPES)}")
    if envelope.type not in door.types:
        raise Refused.field(
            "type", f"外部系统{system}未获准推送{envelope.type}，已获准：{_type_names(door.types)}"
        )
    if envelope.source != system_source(system):
        raise Refused.field("source", f"事件来源应为{system_source(system)}")
    if not OrgCode.parse(envelope.org).is_within(door.township):
        raise Refused.field(
            "org", f"事件所涉单位{envelope.org}不在外部系统所属乡镇{door.township.value}辖区内"
        )
    payload = _payload(envelope)
    concerned = payload.org if isinstance(payload, ComplaintFiled) else _case_event(payload)[1]
    if concerned != envelope.org:
        name = "data.org" if isinstance(payload, ComplaintFiled) else "data.accepting_org"
        raise Refused.field(name, f"与事件的org（{envelope.org}）不一致")
    if not isinstance(payload, ComplaintFiled) and envelope.subject != payload_case(payload):
        raise Refused.field("subject", f"应为办件编号{payload_case(payload)}")
    return payload


def _payload(envelope: Envelope) -> EventData:
    try:
        cls = payload_class(envelope.type)
        return cls.model_validate(envelope.data)
    except UnknownEventType:
        raise Refused.field("type", f"未知的事件类型{envelope.type}") from None
    except ValidationError as exc:
        raise Refused(f"{envelope.type}的data不符合契约", _field_errors(exc, "data")) from None


def _case_event(payload: EventData) -> tuple[str, str]:
    if isinstance(payload, CaseSupplemented | CaseEvaluated):
        return payload.case_number, payload.accepting_org
    raise TypeError(f"not a case event: {type(payload).__name__}")


def payload_case(payload: EventData) -> str:
    """The case number a pushed case event is about."""
    return _case_event(payload)[0]


def presented_as_required(materials: Sequence[Material], codes: Sequence[str]) -> list[Presented]:
    """The supplied materials of a pushed supplement: the system attests each code as the item
    requires it (its form and copies). A code the item lacks stays, for the command to refuse."""
    by_code = {m.code: m for m in materials}
    return [
        Presented(code, by_code[code].form, by_code[code].copies)
        if code in by_code
        else Presented(code, MaterialForm.original, 0)
        for code in codes
    ]


def refused_by_command(problem: Problem, payload: EventData) -> Refused:
    """What the command refused, with its fields renamed into the pushed event's."""
    default = "data.case_number" if not isinstance(payload, ComplaintFiled) else "data"
    renamed = [FieldError(event_field(e.field, payload), e.message) for e in problem.errors]
    reason = problem.detail
    if not renamed:
        renamed = [FieldError(default, problem.detail)]
    elif reason == type(problem).default_detail:
        reason = renamed[0].message
    return Refused(reason, renamed)


_MATERIALS = re.compile(r"^materials(?=\[|$)")


def event_field(command_field: str, payload: EventData) -> str:
    """A field of the command's input as the field of the pushed event it came from."""
    if isinstance(payload, CaseSupplemented):
        command_field = _MATERIALS.sub("material_codes", command_field).replace("].code", "]")
    return f"data.{command_field}" if command_field else "data"


def _field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for error in exc.errors():
        path = ""
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path or prefix else str(part))
        errors.append(FieldError(f"{prefix}{path}", _message(error)))
    return errors or [FieldError(prefix, str(exc))]


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "必填字段缺失"
    if kind == "extra_forbidden":
        return "契约中没有此字段"
    return f"取值无效：{error.get('msg', '')}"


def township_of(code: str) -> OrgCode:
    """The township an outside system is registered for; InvalidOrgCode unless it is one."""
    org = OrgCode.parse(code)
    if org.tier is not Tier.township:
        raise InvalidOrgCode(f"区划代码{code}不是乡镇（街道）级单位")
    return org
