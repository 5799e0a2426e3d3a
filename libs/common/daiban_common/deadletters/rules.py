"""The rules of dead letters, free of HTTP and SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from daiban_common.errors import Conflict, FieldError, InvalidInput
from daiban_contracts.crossing import Topology
from daiban_contracts.envelope import Envelope, MalformedEvent, UnknownEventType, payload_class
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode

REASON_MAX_LENGTH: Final = 500
# An error kept in an event or a log line: enough to say why, not a whole validation dump.
ERROR_MAX_LENGTH: Final = 1000
_SUBJECT_ORG = re.compile(r"^[a-z][a-z0-9_]*\.([0-9]{6})\.([0-9]{3})\.([0-9]{3})\.")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


class Status(StrEnum):
    open = "open"
    replayed = "replayed"
    discarded = "discarded"

    @property
    def label(self) -> str:
        return {"open": "待处理", "replayed": "已重放", "discarded": "已丢弃"}[self.value]


OUTCOME_LABELS: Final = {"applied": "已生效", "duplicate": "此前已生效，本次未重复执行", "failed": "重放失败"}


def storable(text: str | None) -> str | None:
    """Text PostgreSQL can keep: it refuses NUL in `text` and in JSONB strings, and a dead letter
    that cannot be written would be retried for ever instead of parked. NUL becomes U+FFFD, as
    the undecodable bytes of a payload already do."""
    return None if text is None else text.replace("\x00", "\ufffd")


def parked_org(envelope: Envelope | None, subject: str) -> str | None:
    """The org a dead letter is scoped by: the event's own, else the one its subject is addressed
    to (an envelope that could not be read), else none (seen only by those who see the node)."""
    if envelope is not None:
        return envelope.org
    found = _SUBJECT_ORG.match(subject)
    if found is None:
        return None
    try:
        return OrgCode.parse("".join(found.groups())).value
    except InvalidOrgCode:
        return None


def visible_to(scope: OrgCode, org: str | None, node_org: OrgCode) -> bool:
    """Whether a caller whose subtree is `scope` may see a dead letter of `org` (none: the node's)."""
    return OrgCode.parse(org or node_org.value).is_within(scope)


def audit_org(topology: Topology, org: str | None) -> str:
    """The org a replay's or discard's event is addressed to: the dead letter's, when this node
    hosts it (so that it is logged here, under the unit concerned), else the node's own."""
    if org is None:
        return topology.node_org.value
    code = OrgCode.parse(org)
    return code.value if topology.node_of(code) == topology.node_org else topology.node_org.value


class NotOpen(Conflict):
    type = "/problems/dead-letter-settled"
    title = "Dead letter already settled"


def ensure_open(status: str) -> None:
    """409 for a dead letter already replayed or discarded: each is settled once."""
    if status != Status.open:
        raise NotOpen(f"该死信已{Status(status).label}，不能再次处理")


def discard_reason(raw: str) -> str:
    """The reason of a discard, trimmed; a clerk's reader must understand it, so in Chinese."""
    reason = raw.strip()
    if not reason:
        raise InvalidInput.field("reason", "请填写丢弃理由")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput.field("reason", f"丢弃理由不能超过{REASON_MAX_LENGTH}个字")
    if not _CHINESE.search(reason):
        raise InvalidInput.field("reason", "丢弃理由请用中文说明")
    return reason


def stored_envelope(payload: str) -> dict[str, Any] | None:
    """The parked message as a JSON object, or None when it is not one."""
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def replay_envelope(
    payload: str,
    event_id: str | None,
    *,
    data: dict[str, Any] | None = None,
    envelope: dict[str, Any] | None = None,
) -> Envelope:
    """The event a replay applies: as parked, with corrected `data`, or a corrected `envelope`.

    A correction keeps the event's id: the inbox knows an event by it, and a replay must apply at
    most once however often it is corrected. Errors name the field of the request at fault.
    """
    if data is not None and envelope is not None:
        raise InvalidInput.field("envelope", "data 与 envelope 只能提供其一")
    if envelope is not None:
        if event_id is not None and envelope.get("id") != event_id:
            raise InvalidInput.field("envelope.id", f"更正后的事件须保留原事件标识{event_id}")
        return _envelope(envelope, "envelope")
    stored = stored_envelope(payload)
    if data is None:
        try:
            return Envelope.from_bytes(payload.encode())
        except MalformedEvent as exc:
            raise InvalidInput(
                "原事件无法解析，请在 envelope 中提供更正后的完整事件",
                errors=[FieldError("envelope", short_error(str(exc)))],
            ) from None
    if stored is None:
        raise InvalidInput.field("data", "原事件不是可读的事件信封，请在 envelope 中提供完整事件")
    return _envelope({**stored, "data": data}, "data")


def _envelope(value: dict[str, Any], field: str) -> Envelope:
    """`value` as an envelope whose data fits its type; 422 naming each field at fault."""
    try:
        found = Envelope.model_validate(value)
    except ValidationError as exc:
        if field == "data":  # the parked envelope is at fault, not the data given
            raise InvalidInput(
                "原事件的信封无效，请在 envelope 中提供更正后的完整事件",
                errors=[FieldError("envelope", short_error(str(exc)))],
            ) from None
        raise InvalidInput(
            "更正后的事件不是有效的事件信封",
            errors=[FieldError(error_path("envelope", e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    try:
        payload_class(found.type).model_validate(found.data)
    except UnknownEventType:
        pass  # only a catch-all consumer takes it, and the replay says so when it does not
    except ValidationError as exc:
        base = "data" if field == "data" else "envelope.data"
        raise InvalidInput(
            "更正后的事件数据不符合其类型",
            errors=[FieldError(error_path(base, e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    return found


def error_path(base: str, loc: Sequence[int | str]) -> str:
    """A field path in pydantic's syntax (docs/api-vocabulary.md): `data.materials[2].code`."""
    path = base
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def short_error(text: str) -> str:
    """`text` cut to what an event or a log line keeps, and storable: an error may quote the input
    it refused, NUL characters and lone surrogates included, which PostgreSQL text cannot hold."""
    text = text.replace("\x00", "\\u0000").encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"
