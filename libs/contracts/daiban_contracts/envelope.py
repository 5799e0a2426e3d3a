"""The one envelope every event travels in, and the registry of typed payloads.

The envelope carries CloudEvents 1.0 attributes. Payload models are defined once (in
`daiban_contracts`) and registered by their versioned type name, so a consumer can turn
wire bytes back into a typed payload and JSON Schemas can be exported for other systems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from daiban_contracts.ids import uuid7
from daiban_contracts.orgcodes import OrgCode

_TYPE_RE = re.compile(r"^daiban\.(?P<aggregate>[a-z_]+)\.(?P<event>[a-z_]+)\.v(?P<version>[0-9]+)$")


class EventData(BaseModel):
    """Base of every event payload: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""


_REGISTRY: dict[str, type[EventData]] = {}

E = TypeVar("E", bound=type[EventData])


def event_type(name: str) -> Callable[[E], E]:
    """Register a payload class under its versioned type name, e.g. `daiban.case.accepted.v1`."""
    if not _TYPE_RE.match(name):
        raise ValueError(f"event type {name!r} must look like daiban.<aggregate>.<event>.v<N>")

    def register(cls: E) -> E:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"event type {name!r} is registered twice")
        cls.event_type = name
        _REGISTRY[name] = cls
        return cls

    return register


def registered_types() -> dict[str, type[EventData]]:
    _load_contracts()
    return dict(_REGISTRY)


def payload_class(type_name: str) -> type[EventData]:
    _load_contracts()
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise UnknownEventType(type_name) from None


def type_parts(type_name: str) -> tuple[str, str, int]:
    """`daiban.case.accepted.v1` -> ("case", "accepted", 1)."""
    match = _TYPE_RE.match(type_name)
    if match is None:
        raise UnknownEventType(type_name)
    return match["aggregate"], match["event"], int(match["version"])


class UnknownEventType(LookupError):
    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


class MalformedEvent(ValueError):
    """Wire bytes that are not a valid envelope or whose data does not fit its type."""


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes plus daiban's `org` and `traceparent` extensions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: str = "1.0"
    id: str = Field(description="UUIDv7; also the Nats-Msg-Id used for publish deduplication")
    type: str = Field(description="Versioned event type, e.g. daiban.case.accepted.v1")
    source: str = Field(description="Producing service and node, e.g. /daiban/n370285000000/intake")
    subject: str = Field(description="The case number or item code the event is about")
    time: datetime
    org: str = Field(description="12-digit code of the org unit the event concerns")
    actor: str = Field(default="", description="Who caused it: a staff id, or system:<service>")
    traceparent: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    @field_validator("org")
    @classmethod
    def _org_is_a_code(cls, value: str) -> str:
        return OrgCode.parse(value).value

    @field_validator("time")
    @classmethod
    def _time_is_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset")
        return value

    def payload(self) -> EventData:
        """The typed payload; raises MalformedEvent if data does not fit the registered type."""
        cls = payload_class(self.type)
        try:
            return cls.model_validate(self.data)
        except ValidationError as exc:
            raise MalformedEvent(f"data of {self.type} is invalid: {exc}") from exc

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            raise MalformedEvent(f"not a daiban event envelope: {exc}") from exc


def new_event_id() -> str:
    return str(uuid7())


def make_envelope(
    payload: EventData,
    *,
    source: str,
    subject: str,
    org: str,
    actor: str,
    traceparent: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    if not payload.event_type:
        raise UnknownEventType(type(payload).__name__)
    return Envelope(
        id=new_event_id(),
        type=payload.event_type,
        source=source,
        subject=subject,
        time=time or datetime.now(UTC),
        org=org,
        actor=actor,
        traceparent=traceparent,
        data=payload.model_dump(mode="json"),
    )


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every registered payload, keyed by event type (for the AsyncAPI document)."""
    return {name: cls.model_json_schema() for name, cls in sorted(registered_types().items())}


_contracts_loaded = False


def _load_contracts() -> None:
    # Payload classes register themselves on import; importing their modules makes them all known.
    # Once: every event a consumer routes asks, and a `from ... import` of seven loaded modules
    # still cost ~18 Python calls each time.
    global _contracts_loaded
    if _contracts_loaded:
        return
    from daiban_contracts import audit, calendar, case, catalogue, deadletters, directory, routing  # noqa: F401

    _contracts_loaded = True
