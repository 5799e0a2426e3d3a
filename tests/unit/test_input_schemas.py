"""Every input of every service says in its schema what reaches PostgreSQL safely.

A string without a pattern (or enum, format) may carry NUL, which PostgreSQL refuses: a 500 until
`StoredText` (pattern `^[^\\u0000]*$`) was used everywhere. An integer without bounds may exceed
bigint: a 500 in the driver. This walks every query, path and body schema of the four services so
that a new route with a bare `str` or `int` fails here rather than in production.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from daiban_common.app import create_app
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_contracts.integers import SAFE_INT_MAX

METHODS = ("get", "put", "post", "delete", "patch")
# Parsed by the route itself, which refuses anything but a valid value with a 422 naming it:
# org codes (`OrgCode.parse`), cursors (`decode_cursor`) and the audit log's date-or-instant range.
PARSED_IN_CODE = frozenset({"cursor", "org", "parent", "node", "acceptable_at", "from", "to"})
# Free-form bodies checked whole by `ensure_storable` (a JSON merge patch) or by the CSV importer.
FREE_FORM = frozenset({"PATCH /v1/items/{item_code}", "POST /v1/departments/import",
                       "POST /v1/windows/import", "POST /v1/staff/import"})  # fmt: skip


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    settings = Settings(
        var_dir=Path(tmp_path_factory.mktemp("input-schemas")),
        database_url="postgresql+asyncpg://daiban@127.0.0.1:9/daiban",
        nats_url="nats://127.0.0.1:9",
    )
    return {name: create_app(spec, settings).openapi() for name, spec in discover_services().items()}


def _resolve(document: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]


def loose(
    document: Mapping[str, Any], schema: Mapping[str, Any], path: str, seen: frozenset[str]
) -> Iterator[str]:
    """Paths in `schema` of strings without a pattern and integers without both bounds."""
    if "$ref" in schema:
        if schema["$ref"] not in seen:
            yield from loose(document, _resolve(document, schema["$ref"]), path, seen | {schema["$ref"]})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from loose(document, sub, path, seen)
    kind = schema.get("type")
    if kind == "string" and not {"pattern", "enum", "format", "const"} & schema.keys():
        yield f"{path} (string without pattern)"
    if kind == "integer" and not (
        "minimum" in schema and "maximum" in schema and schema["maximum"] <= SAFE_INT_MAX
    ):
        yield f"{path} (integer without bounds)"
    for name, sub in schema.get("properties", {}).items():
        yield from loose(document, sub, f"{path}.{name}", seen)
    for sub in schema.get("patternProperties", {}).values():
        yield from loose(document, sub, f"{path}.*", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield f"{path} (object with free keys)"
    if kind == "array" and "items" in schema:
        yield from loose(document, schema["items"], f"{path}[]", seen)


def inputs(document: Mapping[str, Any]) -> Iterator[str]:
    for route, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None or f"{method.upper()} {route}" in FREE_FORM:
                continue
            where = f"{method.upper()} {route}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("query", "path") and parameter["name"] not in PARSED_IN_CODE:
                    yield from loose(
                        document, parameter["schema"], f"{where} {parameter['name']}", frozenset()
                    )
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield from loose(document, media.get("schema", {}), f"{where} body", frozenset())


@pytest.mark.parametrize("service", sorted(discover_services()))
def test_every_input_is_bounded_in_the_schema(documents: dict[str, dict[str, Any]], service: str) -> None:
    assert list(inputs(documents[service])) == []
