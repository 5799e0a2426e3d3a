"""docs/asyncapi.yaml: up to date with the generator, and shaped as an AsyncAPI 3.0.0 document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from daiban_contracts.case import CaseAccepted
from daiban_contracts.envelope import registered_types
from daiban_contracts.routing import CaseForwarded
from daiban_devtools.asyncapi import asyncapi_document, participants, render_yaml

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def generated() -> str:
    return render_yaml(asyncapi_document(participants()))


@pytest.fixture(scope="module")
def document(generated: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(generated)
    return loaded


def test_the_committed_document_is_what_the_generator_writes(generated: str) -> None:
    assert COMMITTED.exists(), "docs/asyncapi.yaml is missing: run `./daiban asyncapi`"
    assert COMMITTED.read_text(encoding="utf-8") == generated, (
        "docs/asyncapi.yaml is out of date: run `./daiban asyncapi` and commit it"
    )


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_document_has_the_asyncapi_3_shape(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert {"channels", "operations", "components"} <= set(document)
    for ref in refs(document):
        resolve(document, ref)
    for name, channel in document["channels"].items():
        assert channel["messages"], name
        placeholders = set(re.findall(r"\{(\w+)\}", channel["address"]))
        assert placeholders == set(channel["parameters"]), name
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel_ref = operation["channel"]["$ref"]
        channel = resolve(document, channel_ref)
        for message in operation["messages"]:
            # AsyncAPI 3: an operation's messages are those of its channel.
            assert message["$ref"].startswith(channel_ref + "/messages/"), name
        assert channel["messages"]


def test_every_event_type_is_a_message_with_its_payload_schema(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    by_type = {message["name"]: message for message in messages.values()}
    assert set(by_type) == set(registered_types())
    for type_name, cls in registered_types().items():
        payload = by_type[type_name]["payload"]["allOf"]
        assert payload[0] == {"$ref": "#/components/schemas/Envelope"}
        assert payload[1]["properties"]["type"] == {"const": type_name}
        data = resolve(document, payload[1]["properties"]["data"]["$ref"])
        assert set(data["properties"]) == set(cls.model_fields), type_name
    envelope = schemas["Envelope"]
    assert {"specversion", "id", "type", "source", "subject", "time", "org", "data"} <= set(
        envelope["properties"]
    )


def test_subjects_and_participants_are_those_of_the_code(document: dict[str, Any]) -> None:
    channel = document["channels"]["case.accepted.v1"]
    assert channel["address"] == "{root}.{county6}.{township3}.{village3}.case.accepted"
    operations = document["operations"]
    assert operations["intakeSendsCaseAccepted"]["action"] == "send"
    assert operations["routingReceivesCaseAccepted"]["action"] == "receive"
    # Routing forwards a case to the next tier, whose routing receives it.
    assert {"routingSendsCaseForwarded", "routingReceivesCaseForwarded"} <= set(operations)
    # The audit log takes every event.
    receivers = {op["tags"][0]["name"] for op in operations.values() if op["action"] == "receive"}
    assert "audit" in receivers
    senders = {
        op["messages"][0]["$ref"].rsplit("/", 1)[-1]
        for op in operations.values()
        if op["action"] == "send" and op["tags"][0]["name"] != "outside systems"
    }
    assert {CaseAccepted.__name__, CaseForwarded.__name__} <= senders
    assert senders == {cls.__name__ for cls in registered_types().values()}, "an event nobody sends"


def test_every_message_has_an_example_its_contract_accepts(document: dict[str, Any]) -> None:
    from daiban_contracts.envelope import Envelope

    messages = document["components"]["messages"]
    assert messages, "no messages"
    for name, message in messages.items():
        examples = message.get("examples")
        assert examples, f"{name} has no example"
        for example in examples:
            envelope = Envelope.model_validate(example["payload"])
            assert envelope.type == message["name"], name
            envelope.payload()  # the data fits the event's contract, or this raises
            assert example["headers"]["Nats-Msg-Id"] == envelope.id


def test_outside_systems_push_to_their_own_ingress_channels(document: dict[str, Any]) -> None:
    from daiban_contracts.ingress import INGRESS_TYPES

    ingress = {c["title"].split()[0]: c for k, c in document["channels"].items() if k.startswith("ingress.")}
    assert set(ingress) == set(INGRESS_TYPES)
    for channel in ingress.values():
        assert ".ingress.{system}." in channel["address"]
        (message,) = channel["messages"].values()
        example = document["components"]["messages"][message["$ref"].rsplit("/", 1)[1]]["examples"][0]
        assert example["payload"]["source"].startswith("/systems/")
    assert {"county-hub", "township-leaf"} <= set(document["servers"])
    schemes = document["components"]["securitySchemes"]
    assert {"serviceIdentity", "leafConnection", "systemCredential"} <= set(schemes)
