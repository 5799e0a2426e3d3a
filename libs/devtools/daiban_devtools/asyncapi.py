"""The AsyncAPI 3.0 document of every event, generated from the contracts and the services.

`daiban asyncapi` writes it to `docs/asyncapi.yaml`; a test keeps the committed file equal to what
this module generates. What goes in, and where it comes from:

- messages: one per registered event type (`events.registered_types()`), its payload the
  CloudEvents envelope whose `data` is the contract's JSON Schema;
- channels: one per event type, addressed `{root}.{county6}.{township3}.{village3}.<aggregate>.<event>`
  (the org tokens are those of the org unit the event concerns, `envelope.org`);
- operations: who receives an event is read from each service's subscriptions (their handlers,
  or a catch-all); who sends it, from the payload classes each service's code constructs.

A township system that publishes or consumes these events needs nothing else: the subject, the
envelope with its `Nats-Msg-Id`, and the payload schema are all in the document.
"""

from __future__ import annotations

import ast
import importlib
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic.json_schema import models_json_schema

from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_contracts.deadletters import PUBLISHED_BY_EVERY_SERVICE
from daiban_contracts.envelope import Envelope, EventData, registered_types, type_parts
from daiban_contracts.ingress import INGRESS_EVENTS, system_actor, system_source
from daiban_contracts.subjects import Subjects
from daiban_devtools.event_examples import COUNTY, TOWNSHIP, VILLAGE, example_message

__all__ = ["Participants", "asyncapi_document", "participants", "render_yaml"]

ASYNCAPI_VERSION: Final = "3.0.0"
_REF: Final = "#/components/schemas/{model}"
_ADDRESS: Final = "{root}.{county6}.{township3}.{village3}"
EXAMPLE_SYSTEM: Final = "jiangshan-hall"

_DESCRIPTION: Final = """\
Every event of the daiban network, as it travels on NATS JetStream.

**Envelope.** Each message is a CloudEvents 1.0 JSON envelope (`specversion`, `id`, `type`,
`source`, `subject`, `time`, `datacontenttype`) plus daiban's `org` (the 12-digit org unit the
event concerns), `actor` (a staff id or `system:<service>`) and `traceparent` (W3C trace
context). `data` holds the typed payload; `type` names it with its version
(`daiban.case.accepted.v1`). Unknown fields are refused: a new field means a new version, unless
it is added with a default (older producers stay valid).

**Subjects.** `<root>.<county6>.<township3>.<village3>.<aggregate>.<event>`, built from the org
unit the event concerns: `daiban.370285.101.294.case.accepted` for a case accepted at village
370285101294, `daiban.370285.101.000.case.forwarded` for a case forwarded to township
370285101000, `daiban.370285.000.000.…` for the county itself. A node subscribes to its subtree
with wildcards (`daiban.370285.101.*.*.*`). `root` is `DAIBAN_SUBJECT_ROOT` (default `daiban`).
A copy of an event for another node carries two more tokens and is addressed to that node:
`daiban.370285.101.000.copy.progress.case.decided` (kinds `progress`, `countywide`, `published`;
which events are copied where is `daiban_contracts.crossing`, and deploy/README.md's table).

**Delivery.** Each node (the county's, and each township's that runs its own) has its own
nats-server and stream (`DAIBAN_STREAM_NAME`, default `DAIBAN`), holding exactly the subjects of
its own subtree, so each event is stored once, by the node it is addressed to. Producers write
events to an outbox in the same transaction as their state and publish them with the header
`Nats-Msg-Id: <envelope id>` (`<envelope id>+<kind>.<aggregate>.<event>` for a copy), so a
re-publish within the stream's duplicate window is dropped. Delivery is at least once; consumers
are durable and idempotent (an inbox keyed by the envelope id), and an event that can never apply
is parked in a dead-letter table. Order is kept per subject filter of one consumer, not across consumers.

**Security.** Every connection authenticates (`components.securitySchemes`): each service of each
node as its own NATS user, allowed to publish only the event types its service owns, within its
node's subtree; a township's leaf connection carries only what crosses a link; and consumers park
an event whose subject, type, `org` and `source` disagree (a dead letter, with the reason).

**Joining as another system.** A township's own system (a hall system, a 好差评 terminal) gets a
credential with `daiban systems issue` and pushes the events of the `ingress.*` channels to its own
ingress subject, `<root>.<county6>.<township3>.<village3>.ingress.<system>.<aggregate>.<event>`,
with `source` `/systems/<system>` and `Nats-Msg-Id` set to the envelope's `id`; the owning service
applies each through its own command, with the system as actor. Systems that cannot speak NATS
post the same events as CloudEvents to intake's `POST /v1/ingress/events`
(docs/township-systems.md). Every other subject is refused to it by the server. Personal data never
travels in clear: applicants appear masked, with an HMAC of their ID under the network's salt
(`DAIBAN_PII_SALT`).
"""

_PARAMETERS: Final[Mapping[str, dict[str, Any]]] = {
    "root": {"description": "First subject token of the network (DAIBAN_SUBJECT_ROOT)", "default": "daiban"},
    "county6": {"description": "First six digits of the org code: the county", "examples": ["370285"]},
    "township3": {
        "description": "Digits 7-9 of the org code: the township, `000` for the county itself",
        "examples": ["101", "000"],
    },
    "village3": {
        "description": "Digits 10-12 of the org code: the village, `000` for a township or the county",
        "examples": ["294", "000"],
    },
}

_SYSTEM_PARAMETER: Final[dict[str, Any]] = {
    "description": "The outside system's id, as registered with `daiban systems register` (one token)",
    "examples": [EXAMPLE_SYSTEM],
}

_SECURITY: Final[dict[str, Any]] = {
    "serviceIdentity": {
        "type": "userPassword",
        "description": (
            "Each service of each node connects as its own NATS user (`<node>-<service>`, e.g. "
            "`n370285000000-routing`) whose publish permissions cover exactly the event types that "
            "service owns (daiban_contracts.ownership) in its node's subtree, and whose subscribe "
            "permissions cover what it consumes. Set with DAIBAN_NATS_USER / DAIBAN_NATS_PASSWORD or "
            "DAIBAN_NATS_CREDENTIALS (docs/operations.md, 'NATS identities')."
        ),
    },
    "leafConnection": {
        "type": "userPassword",
        "description": (
            "A township node's nats-server connects to the county's hub as a leaf node with the user "
            "`t<county6><township3>`, allowed to carry only what crosses a link (daiban_contracts.crossing) "
            "and only within its own township."
        ),
    },
    "systemCredential": {
        "type": "userPassword",
        "description": (
            "An outside system's NATS user, issued and revoked with `daiban systems issue|revoke`: it may "
            "publish only to `<root>.<its township>.*.ingress.<system>.*.*` for the ingress types "
            "(daiban_contracts.ingress). No credential, no connection."
        ),
    },
}

_SERVERS: Final[dict[str, Any]] = {
    "development": {
        "host": "127.0.0.1:54222",
        "protocol": "nats",
        "description": (
            "The embedded nats-server of `make run` (DAIBAN_EMBEDDED_NATS_PORT); every connection "
            "authenticates with a credential generated under var/nats/secrets"
        ),
        "security": [{"$ref": "#/components/securitySchemes/serviceIdentity"}],
    },
    "county-hub": {
        "host": "{host}:4222",
        "protocol": "nats",
        "description": (
            "The county node's nats-server (JetStream domain `hub`): the county's services connect "
            "here, and township leaf nodes connect to its leaf port (7422)"
        ),
        "variables": {"host": {"description": "The county node's NATS address", "default": "county-nats"}},
        "security": [
            {"$ref": "#/components/securitySchemes/serviceIdentity"},
            {"$ref": "#/components/securitySchemes/systemCredential"},
        ],
    },
    "township-leaf": {
        "host": "{host}:4222",
        "protocol": "nats",
        "description": (
            "A township node's own nats-server (JetStream domain `t<county6><township3>`), a leaf node "
            "of the county's hub: the township's services and outside systems connect here"
        ),
        "variables": {
            "host": {"description": "The township node's NATS address", "default": "township-nats"}
        },
        "security": [
            {"$ref": "#/components/securitySchemes/serviceIdentity"},
            {"$ref": "#/components/securitySchemes/systemCredential"},
            {"$ref": "#/components/securitySchemes/leafConnection"},
        ],
    },
}

_NATS_HEADERS: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {
            "type": "string",
            "description": "The envelope id: JetStream drops a second publish of the same event",
        },
        "traceparent": {"type": "string", "description": "W3C trace context of the producing request"},
    },
    "required": ["Nats-Msg-Id"],
}


@dataclass
class Participants:
    """Which services send and receive each event type."""

    senders: dict[str, set[str]] = field(default_factory=dict)
    receivers: dict[str, set[str]] = field(default_factory=dict)
    # Services whose catch-all consumer takes every event (the audit log).
    receive_all: set[str] = field(default_factory=set)
    # Who applies what outside systems push to their ingress subjects.
    ingress_receivers: dict[str, set[str]] = field(default_factory=dict)


def participants(services: Mapping[str, ServiceSpec] | None = None) -> Participants:
    specs = dict(services or discover_services())
    found = Participants()
    classes = {cls.__name__: name for name, cls in registered_types().items()}
    for service, package in _service_packages(specs).items():
        for type_name in _constructed(package, classes):
            found.senders.setdefault(type_name, set()).add(service)
    # Emitted by the platform's code on behalf of every service (daiban_common.deadletters).
    for event in PUBLISHED_BY_EVERY_SERVICE:
        found.senders.setdefault(event.event_type, set()).update(specs)
    with tempfile.TemporaryDirectory(prefix="daiban-asyncapi-") as var:
        # Subscriptions are declared against a runtime; building one connects to nothing.
        from daiban_common.runtime import ServiceRuntime

        settings = Settings(
            var_dir=Path(var),
            database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
            nats_url="nats://127.0.0.1:9",
        )
        for service, spec in specs.items():
            runtime = ServiceRuntime(spec, settings)
            try:
                for subscription in spec.subscriptions(runtime):
                    if subscription.ingress and not subscription.events:
                        # It reads what outside systems push to their ingress subjects, not the
                        # channels of these events (docs/township-systems.md).
                        for event in subscription.handlers:
                            found.ingress_receivers.setdefault(event.event_type, set()).add(service)
                        continue
                    for event in subscription.handlers:
                        found.receivers.setdefault(event.event_type, set()).add(service)
                    if subscription.default_handler is not None:
                        found.receive_all.add(service)
            finally:
                runtime.tracer_provider.shutdown()
    return found


def _service_packages(specs: Mapping[str, ServiceSpec]) -> dict[str, Path]:
    """Each service's package folder, found through its entry point (`daiban_intake.service:SERVICE`)."""
    folders: dict[str, Path] = {}
    for ep in entry_points(group="daiban.services"):
        if ep.name in specs:
            module = importlib.import_module(ep.module.split(".", 1)[0])
            assert module.__file__ is not None
            folders[ep.name] = Path(module.__file__).parent
    return folders


def _constructed(package: Path, classes: Mapping[str, str]) -> set[str]:
    """Event types whose payload class the package's code calls (`CaseAccepted(...)`)."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if isinstance(name, str) and name in classes:
                    found.add(classes[name])
    return found


def _message_name(cls: type[EventData]) -> str:
    return cls.__name__


def _channel_id(type_name: str) -> str:
    aggregate, event, version = type_parts(type_name)
    return f"{aggregate}.{event}.v{version}"


def _summary(cls: type[EventData]) -> str | None:
    doc = cls.__doc__
    if not doc or doc == EventData.__doc__:
        return None
    return re.sub(r"\s+", " ", doc.strip().split("\n\n", 1)[0])


def _schemas(types: Mapping[str, type[EventData]]) -> dict[str, Any]:
    models: list[tuple[type[EventData] | type[Envelope], Any]] = [(Envelope, "validation")]
    models += [(cls, "validation") for cls in types.values()]
    _, top = models_json_schema(models, ref_template=_REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    return dict(sorted(schemas.items()))


def _operation_id(action: str, service: str, cls: type[EventData]) -> str:
    return f"{service}{'Sends' if action == 'send' else 'Receives'}{cls.__name__}"


def asyncapi_document(found: Participants | None = None, *, version: str = "0.1.0") -> dict[str, Any]:
    types = dict(sorted(registered_types().items()))
    who = found or participants()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for type_name, cls in types.items():
        aggregate, event, _ = type_parts(type_name)
        channel = _channel_id(type_name)
        message = _message_name(cls)
        senders = sorted(who.senders.get(type_name, ()))
        receivers = sorted(who.receivers.get(type_name, set()) | who.receive_all)
        summary = _summary(cls)
        messages[message] = _message(type_name, cls, summary, _source(senders))
        channels[channel] = {
            "address": f"{_ADDRESS}.{aggregate}.{event}",
            "title": type_name,
            "description": (
                f"`{type_name}` events. Sent by: {', '.join(senders) or 'none in this repository'}; "
                f"received by: {', '.join(receivers) or 'none in this repository'}."
            ),
            "parameters": {name: {"$ref": f"#/components/parameters/{name}"} for name in _PARAMETERS},
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
        for action, services in (("send", senders), ("receive", receivers)):
            for service in services:
                operations[_operation_id(action, service, cls)] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{_escape(channel)}"},
                    "summary": f"{service} {action}s {type_name}",
                    "tags": [{"name": service}],
                    "messages": [{"$ref": f"#/channels/{_escape(channel)}/messages/{message}"}],
                }
    _ingress(channels, operations, messages, who)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "daiban events",
            "version": version,
            "description": _DESCRIPTION,
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": _SERVERS,
        "channels": channels,
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": messages,
            "schemas": {"NatsHeaders": _NATS_HEADERS, **_schemas(types)},
            "parameters": dict(_PARAMETERS) | {"system": _SYSTEM_PARAMETER},
            "securitySchemes": _SECURITY,
        },
    }


def _source(senders: list[str]) -> str:
    """The `source` of an example: the first sender, at the county's node for the county's own
    publications and at a township's otherwise."""
    service = senders[0] if senders else "intake"
    node = COUNTY if service in {"catalogue"} else TOWNSHIP
    return f"/daiban/n{node}/{service}"


def _message(type_name: str, cls: type[EventData], summary: str | None, source: str) -> dict[str, Any]:
    return {
        "name": type_name,
        "title": cls.__name__,
        **({"summary": summary} if summary else {}),
        "contentType": "application/json",
        "headers": {"$ref": _REF.format(model="NatsHeaders")},
        "payload": {
            "allOf": [
                {"$ref": _REF.format(model="Envelope")},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": type_name},
                        "data": {"$ref": _REF.format(model=cls.__name__)},
                    },
                },
            ]
        },
        "examples": [example_message(cls, source)],
    }


def _ingress(
    channels: dict[str, Any], operations: dict[str, Any], messages: dict[str, Any], who: Participants
) -> None:
    """The channels outside systems push to (daiban_contracts.ingress): one per ingress type, the
    system's id in the address; the owning service receives them and applies its own command."""
    for cls in INGRESS_EVENTS:
        type_name = cls.event_type
        aggregate, event, _ = type_parts(type_name)
        channel = f"ingress.{_channel_id(type_name)}"
        message = f"Ingress{cls.__name__}"
        pushed = example_message(cls, system_source(EXAMPLE_SYSTEM)) | {
            "summary": (
                f"{type_name} pushed by outside system `{EXAMPLE_SYSTEM}` to "
                f"{Subjects().ingress(VILLAGE, EXAMPLE_SYSTEM, cls)}"
            )
        }
        pushed["payload"] = pushed["payload"] | {"actor": system_actor(EXAMPLE_SYSTEM)}
        messages[message] = _message(type_name, cls, _summary(cls), system_source(EXAMPLE_SYSTEM)) | {
            "title": message,
            "examples": [pushed],
        }
        receivers = sorted(who.ingress_receivers.get(type_name, ()))
        channels[channel] = {
            "address": f"{_ADDRESS}.ingress.{{system}}.{aggregate}.{event}",
            "title": f"{type_name} from outside systems",
            "description": (
                f"`{type_name}` pushed by a township's own system (a hall system, a 好差评 terminal), "
                "with `source` `/systems/<system>` and a credential that may publish only here, in "
                f"its township's subtree. Received by: {', '.join(receivers) or 'none'}, which applies "
                "it through its own command (docs/township-systems.md)."
            ),
            "parameters": {
                name: {"$ref": f"#/components/parameters/{name}"} for name in [*_PARAMETERS, "system"]
            },
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
        ref = {"$ref": f"#/channels/{_escape(channel)}/messages/{message}"}
        operations[f"outsideSystemSends{message}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_escape(channel)}"},
            "summary": f"An outside system pushes {type_name}",
            "tags": [{"name": "outside systems"}],
            "security": [{"$ref": "#/components/securitySchemes/systemCredential"}],
            "messages": [ref],
        }
        for service in receivers:
            operations[f"{service}Receives{message}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{_escape(channel)}"},
                "summary": f"{service} applies {type_name} pushed by outside systems",
                "tags": [{"name": service}],
                "messages": [ref],
            }


def _escape(token: str) -> str:
    # JSON Pointer: channel ids hold dots only, which need no escaping; kept for '/' and '~'.
    return token.replace("~", "~0").replace("/", "~1")


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Plain YAML for people: no anchors and aliases, multi-line text as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render_yaml(document: Mapping[str, Any]) -> str:
    text = yaml.dump(dict(document), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return "# Generated by `./daiban asyncapi`; do not edit by hand.\n" + str(text)


def write(path: Path, services: Iterable[str] | None = None) -> str:
    """Generate the document and write it to `path` (`-` for standard output)."""
    specs = discover_services()
    if services is not None:
        specs = {name: specs[name] for name in services}
    text = render_yaml(asyncapi_document(participants(specs)))
    if str(path) == "-":
        print(text, end="")
    else:
        path.write_text(text, encoding="utf-8")
    return text
