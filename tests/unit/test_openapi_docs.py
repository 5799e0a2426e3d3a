"""Every service's OpenAPI document: an example for every body, problem+json for every error.

A front-end developer codes against these documents; an operation without an example, an error
without its problem+json body, or an example that no longer fits its schema fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daiban_common.app import create_app
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from tests.unit.openapi_check import Checker

METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = "application/problem+json"
CJK = re.compile(r"[\u3400-\u9fff]")
SERVICES = list(discover_services())


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    var = tmp_path_factory.mktemp("openapi-var")
    # Building the app connects to nothing; the URLs only need to parse.
    settings = Settings(
        var_dir=Path(var),
        database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
        nats_url="nats://127.0.0.1:9",
    )
    return {name: create_app(spec, settings).openapi() for name, spec in discover_services().items()}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def examples_of(media: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    return [entry["value"] for entry in media.get("examples", {}).values()]


@pytest.mark.parametrize("service", SERVICES)
def test_no_fastapi_validation_schema_remains(documents: dict[str, dict[str, Any]], service: str) -> None:
    document = documents[service]
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"ValidationError"' not in text and "/ValidationError" not in text
    assert document["components"]["schemas"]["Problem"]["properties"]["errors"]["type"] == "array"


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_has_request_and_success_examples(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    missing = []
    for name, operation in operations(documents[service]):
        assert operation.get("summary"), f"{name} has no summary"
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if not examples_of(media):
                missing.append(f"{name} request {media_type}")
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert successes, f"{name} documents no success response"
        for status, response in successes.items():
            content = response.get("content", {})
            if status != "204" and not content:
                missing.append(f"{name} {status} has no content")
            for media_type, media in content.items():
                if not examples_of(media):
                    missing.append(f"{name} {status} {media_type}")
    assert not missing, "operations without examples:\n" + "\n".join(missing)


@pytest.mark.parametrize("service", SERVICES)
def test_summaries_are_english(documents: dict[str, dict[str, Any]], service: str) -> None:
    """Summaries are developer documentation (English); what clerks read goes in `description`."""
    chinese = [
        f"{name}: {operation['summary']}"
        for name, operation in operations(documents[service])
        if CJK.search(operation.get("summary", ""))
    ]
    assert not chinese, "summaries in Chinese:\n" + "\n".join(chinese)


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_is_problem_json_with_an_example(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    wrong = []
    for name, operation in operations(documents[service]):
        for status, response in operation["responses"].items():
            if not status.startswith("4"):
                continue
            content = response.get("content", {})
            if list(content) != [PROBLEM]:
                wrong.append(f"{name} {status}: media types {list(content)}")
                continue
            bodies = examples_of(content[PROBLEM])
            if not bodies:
                wrong.append(f"{name} {status}: no example")
            for body in bodies:
                problems = problem_shape_errors(int(status), body)
                wrong.extend(f"{name} {status}: {p}" for p in problems)
    assert not wrong, "\n".join(wrong)


def problem_shape_errors(status: int, body: dict[str, Any]) -> list[str]:
    errors = []
    if body.get("status") != status:
        errors.append(f"status {body.get('status')}")
    if not str(body.get("type", "")).startswith("/problems/"):
        errors.append(f"type {body.get('type')!r}")
    if not CJK.search(str(body.get("detail", ""))):
        errors.append(f"detail {body.get('detail')!r} is not Chinese")
    if not str(body.get("instance", "")).startswith("/") or "{instance}" in body["instance"]:
        errors.append(f"instance {body.get('instance')!r}")
    if not isinstance(body.get("errors"), list):
        errors.append("errors missing")
    elif status == 422 and body["type"] == "/problems/validation":
        named = all(e.get("field") and CJK.search(e["message"]) for e in body["errors"])
        if not body["errors"] or not named:
            errors.append(f"422 without a field and a Chinese message: {body['errors']}")
    return errors


@pytest.mark.parametrize("service", SERVICES)
def test_examples_fit_their_schemas(documents: dict[str, dict[str, Any]], service: str) -> None:
    document = documents[service]
    checker = Checker(document)
    wrong: list[str] = []
    for name, operation in operations(document):
        medias = [("request", m) for m in operation.get("requestBody", {}).get("content", {}).values()]
        medias += [
            (status, m) for status, r in operation["responses"].items() for m in r.get("content", {}).values()
        ]
        for where, media in medias:
            if "schema" not in media:
                continue
            for example in examples_of(media):
                wrong.extend(f"{name} {where}: {e}" for e in checker.errors(media["schema"], example))
    for schema_name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            if isinstance(example, dict):
                wrong.extend(f"schema {schema_name}: {e}" for e in checker.errors(schema, example))
    assert not wrong, "\n".join(wrong)


# -- what `make fuzz` found: the documents say what the code does -----------------------------------


def test_an_operation_that_only_may_read_a_token_says_none_is_needed(
    documents: dict[str, dict[str, Any]],
) -> None:
    complaints = documents["intake"]["paths"]["/v1/complaints"]["post"]
    assert {} in complaints["security"]
    applications = documents["intake"]["paths"]["/v1/applications"]["post"]
    assert {} not in applications["security"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_org_parameter_carries_the_org_code_pattern(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    from daiban_contracts.orgcodes import ORG_CODE_PATTERN

    for name, operation in operations(documents[service]):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in ("org", "node", "parent"):
                schema = parameter["schema"]
                options = schema.get("anyOf", [schema])
                patterns = [o.get("pattern") for o in options if o.get("type") == "string"]
                assert patterns == [ORG_CODE_PATTERN], f"{name} {parameter['name']}"


def test_the_org_code_pattern_is_what_org_code_accepts() -> None:
    from daiban_contracts.orgcodes import ORG_CODE_PATTERN, InvalidOrgCode, OrgCode

    for code in ("370285000000", "370285101000", "370285101294", "370200000000", "110000000000"):
        assert re.fullmatch(ORG_CODE_PATTERN, code), code
        OrgCode.parse(code)
    for code in ("000000000000", "370285000001", "370200101000", "99028500000", "3702851010000"):
        assert not re.fullmatch(ORG_CODE_PATTERN, code), code
        with pytest.raises(InvalidOrgCode):
            OrgCode.parse(code)


@pytest.mark.parametrize("path", ["/v1/departments", "/v1/windows", "/v1/staff"])
def test_a_directory_post_documents_its_replay(documents: dict[str, dict[str, Any]], path: str) -> None:
    responses = documents["routing"]["paths"][path]["post"]["responses"]
    assert {"200", "201"} <= set(responses)


@pytest.mark.parametrize("service", SERVICES)
def test_every_201_documents_its_location(documents: dict[str, dict[str, Any]], service: str) -> None:
    created = [
        (name, operation["responses"]["201"])
        for name, operation in operations(documents[service])
        if "201" in operation["responses"]
    ]
    assert created or service == "audit"
    for name, response in created:
        assert "Location" in response.get("headers", {}), f"{name}: the 201 does not document Location"


@pytest.mark.parametrize(
    ("service", "schema", "field"),
    [
        ("intake", "CaseOut", "handover"),
        ("intake", "StageOut", "stage"),
        ("routing", "TaskOut", "decided_by"),
        ("routing", "DecisionOut", "decided_by"),
        ("routing", "RouteOut", "first_responder"),
    ],
)
def test_nested_objects_and_codes_have_a_schema(
    documents: dict[str, dict[str, Any]], service: str, schema: str, field: str
) -> None:
    """A generator makes a type of a $ref; of a bare object or string it makes `any` and `string`."""
    prop = documents[service]["components"]["schemas"][schema]["properties"][field]
    options = prop.get("anyOf", [prop])
    assert any("$ref" in o for o in options), f"{schema}.{field}: {prop}"


def test_an_audit_entry_points_at_the_payload_schemas(documents: dict[str, dict[str, Any]]) -> None:
    data = documents["audit"]["components"]["schemas"]["EntryOut"]["properties"]["data"]
    assert data["type"] == "object" and data["additionalProperties"] is True
    assert "docs/asyncapi.yaml" in data["description"]
