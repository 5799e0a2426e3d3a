"""The NATS identities of a node: one user per service, one per outside system, and what each may
publish and subscribe.

A service may publish exactly the subjects of the event types it owns (daiban_contracts.ownership)
and of their copies for other nodes, addressed within its node's subtree or to the org of the node
above; the relay runs in the service's process, so this covers everything it sends. What it reads
comes through its own JetStream consumers, delivered to its own inbox (`_INBOX.<user>.>`, the
prefix the service connects with): it subscribes to nothing else.

The JetStream API stays broader than the events: a service creates and updates the node's stream
and its durable consumers (`$JS.API.STREAM.*.<stream>`, `$JS.API.CONSUMER.*.<stream>.>`, and acks on
`$JS.ACK.<stream>.>`). NATS wildcards take whole tokens and durable names are one token each
(`n370285000000-intake-progress`), so limiting a service to its own consumers would list every
durable name; until then a service could create a consumer that reads any event of its node's
stream (read, never write: publishing is what the table above guards).
"""

from __future__ import annotations

from dataclasses import dataclass

from daiban_contracts.crossing import copied_as
from daiban_contracts.envelope import type_parts
from daiban_contracts.ingress import INGRESS_TYPES, check_system_id
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.ownership import Service, owned_by
from daiban_contracts.subjects import CopyKind, Subjects


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def service_user(node_name: str, service: str) -> str:
    """`n370285000000-intake`: unique on a server that several nodes' services share (the hub)."""
    return f"{node_name}-{service}"


def inbox_prefix(user: str) -> str:
    """Where a client with `user`'s identity receives replies (publish acks, fetched events)."""
    return f"_INBOX.{user}"


def _addressable(subjects: Subjects, node_org: OrgCode) -> list[str]:
    """Subject prefixes (org tokens) a node's services address events to: anything in the node's
    subtree, and the org of the node above it (forwards up, acknowledgements, checkpoints)."""
    tokens = node_org.subject_tokens.split(".")
    fixed = {Tier.county: 1, Tier.township: 2}.get(node_org.tier)
    if fixed is None:
        raise ValueError(f"{node_org.value} is not a county or a township: not a node")
    found = [".".join([subjects.root, *tokens[:fixed], *["*"] * (3 - fixed)])]
    if (parent := node_org.parent) is not None:
        found.append(f"{subjects.root}.{parent.subject_tokens}")
    return found


def event_subjects(subjects: Subjects, node_org: OrgCode, service: Service | str) -> list[str]:
    """The event and copy subjects `service` of the node of `node_org` publishes to."""
    found: list[str] = []
    for prefix in _addressable(subjects, node_org):
        for type_name in owned_by(service):
            aggregate, event, _ = type_parts(type_name)
            found.append(f"{prefix}.{aggregate}.{event}")
            found.extend(
                f"{prefix}.copy.{kind.value}.{aggregate}.{event}"
                for kind in CopyKind
                if copied_as(kind, type_name)
            )
    return found


def jetstream_api(stream: str) -> list[str]:
    """What a service asks of its node's JetStream: its stream, its consumers, acks."""
    return [
        "$JS.API.INFO",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.CREATE.{stream}",
        f"$JS.API.STREAM.UPDATE.{stream}",
        f"$JS.API.CONSUMER.*.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"$JS.ACK.{stream}.>",
    ]


def service_permissions(
    subjects: Subjects, node_org: str | OrgCode, service: Service | str, *, user: str, stream: str
) -> Permissions:
    code = node_org if isinstance(node_org, OrgCode) else OrgCode.parse(node_org)
    return Permissions(
        publish=(*event_subjects(subjects, code, service), *jetstream_api(stream)),
        subscribe=(f"{inbox_prefix(user)}.>",),
    )


# A node's read-only identity for operators and tests: stream and consumer state, stored events;
# it publishes no event and creates nothing.
OBSERVER = "observer"


def observer_permissions(*, user: str, stream: str) -> Permissions:
    return Permissions(
        publish=(
            "$JS.API.INFO",
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.STREAM.MSG.GET.{stream}",
            f"$JS.API.CONSUMER.INFO.{stream}.>",
            f"$JS.API.CONSUMER.LIST.{stream}",
            f"$JS.API.CONSUMER.NAMES.{stream}",
        ),
        subscribe=(f"{inbox_prefix(user)}.>",),
    )


def identity_permissions(
    subjects: Subjects, node_org: str | OrgCode, name: str, *, user: str, stream: str
) -> Permissions:
    """A service's permissions, or the observer's."""
    if name == OBSERVER:
        return observer_permissions(user=user, stream=stream)
    return service_permissions(subjects, node_org, name, user=user, stream=stream)


def system_user(system: str) -> str:
    """`system-jiangshan-hall`: apart from the services' users on the same server."""
    return f"system-{check_system_id(system)}"


def system_permissions(subjects: Subjects, township: str | OrgCode, system: str) -> Permissions:
    """An outside system publishes the ingress types to its own ingress subjects in its township's
    subtree and nothing else; it reads only the stream's acks of its publishes, on its own inbox."""
    return Permissions(
        publish=tuple(subjects.ingress_within(township, system, name) for name in sorted(INGRESS_TYPES)),
        subscribe=(f"{inbox_prefix(system_user(system))}.>",),
    )
