"""A small JSON Schema checker for the OpenAPI examples (the subset pydantic and FastAPI emit).

The workspace has no JSON Schema library; this covers what the generated documents use, so that
an example that no longer fits its schema (a renamed field, a new required one) fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


class Checker:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, ref: str) -> Mapping[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, Mapping)
        return node

    def errors(self, schema: Mapping[str, Any], value: Any, path: str = "$") -> Iterator[str]:
        if "$ref" in schema:
            yield from self.errors(self.resolve(schema["$ref"]), value, path)
        for sub in schema.get("allOf", []):
            yield from self.errors(sub, value, path)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options and not any(not list(self.errors(o, value, path)) for o in options):
            yield f"{path}: fits none of {len(options)} alternatives ({value!r:.80})"
        if "const" in schema and value != schema["const"]:
            yield f"{path}: {value!r} is not {schema['const']!r}"
        if "enum" in schema and value not in schema["enum"]:
            yield f"{path}: {value!r} not in {schema['enum']}"
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_is_type(value, k) for k in kinds):
                yield f"{path}: {value!r:.60} is not {kind}"
                return
        if isinstance(value, str):
            yield from self._string(schema, value, path)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                yield f"{path}: {value} < {schema['minimum']}"
            if "maximum" in schema and value > schema["maximum"]:
                yield f"{path}: {value} > {schema['maximum']}"
        elif isinstance(value, list):
            yield from self._array(schema, value, path)
        elif isinstance(value, dict):
            yield from self._object(schema, value, path)

    def _string(self, schema: Mapping[str, Any], value: str, path: str) -> Iterator[str]:
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield f"{path}: {value!r} does not match {schema['pattern']}"
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            yield f"{path}: length of {value!r} out of range"
        fmt = schema.get("format")
        try:
            if fmt == "date":
                date.fromisoformat(value)
            elif fmt == "date-time" and datetime.fromisoformat(value).tzinfo is None:
                yield f"{path}: {value!r} has no UTC offset"
        except ValueError:
            yield f"{path}: {value!r} is not a {fmt}"

    def _array(self, schema: Mapping[str, Any], value: list[Any], path: str) -> Iterator[str]:
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            yield f"{path}: {len(value)} items out of range"
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if isinstance(sub, Mapping):
                yield from self.errors(sub, item, f"{path}[{i}]")

    def _object(self, schema: Mapping[str, Any], value: dict[str, Any], path: str) -> Iterator[str]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                yield f"{path}: missing required {name!r}"
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                yield from self.errors(properties[name], item, f"{path}.{name}")
            elif extra is False:
                yield f"{path}: unexpected {name!r}"
            elif isinstance(extra, Mapping):
                yield from self.errors(extra, item, f"{path}.{name}")
