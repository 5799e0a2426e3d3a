"""An example of every event type for docs/asyncapi.yaml: a payload built from the contract's own
fields (a village case of Laixi in January 2026) and checked by the contract's model, so an example
can never drift from what the consumers accept (tests/unit/test_asyncapi.py validates each one).
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from pydantic import BaseModel

from daiban_contracts.envelope import Envelope, EventData, make_envelope
from daiban_contracts.subjects import Subjects

_CST: Final = timezone(timedelta(hours=8))
MOMENT: Final = datetime(2026, 1, 5, 9, 30, tzinfo=_CST)
VILLAGE: Final = "370285101294"  # a village point of 姜山镇, Laixi
TOWNSHIP: Final = "370285101000"
COUNTY: Final = "370285000000"
CASE: Final = "370285101294-20260105-0007"
# Orgs a move of a case goes to, or a node: the township; `county` the county; any other org the village.
_TOWNSHIP_FIELDS: Final = frozenset({"to_org", "deciding_org", "implementing_org", "node_org", "node"})
_ORG_FIELDS: Final = frozenset({"org", "node", "county", "code", "base_code", "parent_code"})
# Readable values for fields that say what they hold; anything else is "示例" (example).
_TEXT: Final[dict[str, str]] = {
    "name": "示例名称",
    "staff_id": "s-1001",
    "item_name": "城乡居民基本养老保险参保登记",
    "material_name": "居民身份证",
    "material_code": "M01",
    "reason": "材料不齐",
    "note": "示例说明",
    "summary": "窗口办理时间过长",
    "phone": "0532-8840****",
    "name_masked": "张*",
    "id_masked": "3702**********1234",
    "currency": "CNY",
}


def _text(name: str) -> str:
    if name.endswith("hash") or name == "signature":
        return "0" * 64
    if name.endswith("org") or name in _ORG_FIELDS:
        return COUNTY if name == "county" else TOWNSHIP if name in _TOWNSHIP_FIELDS else VILLAGE
    if name == "case_number":
        return CASE
    return _TEXT.get(name, "示例")


def _sample(name: str, annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _sample(name, args[0])
    if origin in (typing.Union, types.UnionType):
        return _sample(name, next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return args[0]
    if origin is tuple:
        return (_sample(name, args[0]),)
    if origin is dict:
        return {"overall": 5}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return _values(annotation)
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation)).value
        if annotation is bool:
            return False
        if annotation is int:
            return 2026 if name == "year" else 1
        if annotation is datetime:
            return MOMENT
        if annotation is date:
            return date(2026, 1, 12)
        if annotation is str:
            return _text(name)
    raise TypeError(f"no example value for {name}: {annotation!r}")


def _values(model: type[BaseModel]) -> dict[str, Any]:
    return {name: _sample(name, field.annotation) for name, field in model.model_fields.items()}


def example_payload(event: type[EventData]) -> EventData:
    """A valid payload of `event` (validated by its model: a contract it does not fit raises)."""
    return event.model_validate(_values(event))


def example_envelope(event: type[EventData], *, source: str = "/daiban/n370285101000/intake") -> Envelope:
    payload = example_payload(event)
    org = str(getattr(payload, "org", "") or getattr(payload, "accepting_org", "") or VILLAGE)
    envelope = make_envelope(
        payload,
        source=source,
        subject=str(getattr(payload, "case_number", "") or org),
        org=org,
        actor="s-1001",
        time=MOMENT,
    )
    # A fixed id (a UUIDv7 of 2026-01-05), so the generated document does not change at every run.
    fixed = envelope.model_dump(mode="json") | {"id": "019b8c5a-5e40-7000-8000-000000000007"}
    return Envelope.model_validate(fixed)


def example_message(event: type[EventData], source: str) -> dict[str, Any]:
    """An AsyncAPI message example: the headers and the envelope as JSON."""
    envelope = example_envelope(event, source=source)
    return {
        "name": "example",
        "summary": f"{event.event_type} about {envelope.org}, published to {Subjects().of(envelope)}",
        "headers": {"Nats-Msg-Id": envelope.id},
        "payload": envelope.model_dump(mode="json", exclude_none=True),
    }
