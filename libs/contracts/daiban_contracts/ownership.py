"""Which service owns each event type: the only one that may emit it.

The broker enforces this table (each service's NATS identity may publish only the subjects of the
types it owns, daiban_devtools.natsconf) and consumers check it against an event's `source`
(daiban_common.consumer): a `case.decided` claiming to come from intake is refused either way.
What outside systems push (daiban_contracts.ingress) arrives on ingress subjects and is re-emitted
by the owning service under its own name.
"""

from __future__ import annotations

from enum import StrEnum

from daiban_contracts.envelope import registered_types


class Service(StrEnum):
    intake = "intake"
    catalogue = "catalogue"
    routing = "routing"
    audit = "audit"


# By the type's aggregate and event, version left out: a v2 belongs to the owner of the v1.
_OWNERS: dict[str, Service] = {
    "case.accepted": Service.intake,
    "case.deficiencies_supplied": Service.intake,
    "case.evaluated": Service.intake,
    "case.handed_over": Service.intake,
    "case.supplemented": Service.intake,
    "complaint.filed": Service.intake,
    "notice.issued": Service.intake,
    "rectification.opened": Service.intake,
    "catalogue.item_published": Service.catalogue,
    "case.assigned": Service.routing,
    "case.decided": Service.routing,
    "case.due_recomputed": Service.routing,
    "case.escalated": Service.routing,
    "case.extended": Service.routing,
    "case.forwarded": Service.routing,
    "case.home_visit_booked": Service.routing,
    "case.paused": Service.routing,
    "case.ready_for_handover": Service.routing,
    "case.received": Service.routing,
    "case.resumed": Service.routing,
    "case.returned_down": Service.routing,
    "case.supplement_requested": Service.routing,
    "case.task_claimed": Service.routing,
    "case.task_taken_over": Service.routing,
    "supervision.alert_raised": Service.routing,
    "supervision.flag_cleared": Service.routing,
    "supervision.flag_raised": Service.routing,
    "directory.department_changed": Service.routing,
    "directory.duty_changed": Service.routing,
    "directory.org_units_published": Service.routing,
    "directory.service_point_changed": Service.routing,
    "directory.staff_changed": Service.routing,
    "directory.staff_published": Service.routing,
    "directory.window_changed": Service.routing,
    "calendar.year_published": Service.routing,
    "audit.checkpoint_signed": Service.audit,
}
# What the platform library emits in every service for that service's own records: a dead letter
# of its consumers replayed or discarded (daiban_common.deadletters). Every service owns these.
_EVERY_SERVICE = frozenset({"deadletter.replayed", "deadletter.discarded"})


class UnownedEventType(LookupError):
    pass


def _key(event_type: str) -> str:
    # `daiban.case.accepted.v1` -> `case.accepted`
    parts = event_type.split(".")
    return ".".join(parts[1:3]) if len(parts) == 4 else event_type


def owner(event_type: str) -> Service:
    """The one service that emits events of `event_type` (`daiban.case.decided.v1` -> routing).
    Raises UnownedEventType for a type no service or every service emits (see `owners`)."""
    try:
        return _OWNERS[_key(event_type)]
    except KeyError:
        raise UnownedEventType(f"no single service owns event type {event_type!r}") from None


def owners(event_type: str) -> frozenset[Service]:
    """The services that may emit events of `event_type`: its owner, or all for the platform's."""
    if _key(event_type) in _EVERY_SERVICE:
        return frozenset(Service)
    return frozenset({owner(event_type)})


def emitted_by_every_service(event_type: str) -> bool:
    return _key(event_type) in _EVERY_SERVICE


def owned_by(service: Service | str) -> list[str]:
    """Every registered type `service` emits, sorted (the platform's included)."""
    return sorted(
        name
        for name in registered_types()
        if _OWNERS.get(_key(name)) == service or _key(name) in _EVERY_SERVICE
    )


__all__ = ["Service", "UnownedEventType", "emitted_by_every_service", "owned_by", "owner", "owners"]
