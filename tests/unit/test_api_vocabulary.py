"""One name per concept across the four services' HTTP APIs (docs/api-vocabulary.md).

A front end that has read one service's document should guess the next one's names right. The
table below lists, for each concept, its canonical name and the other spellings the services once
used (issue 18) or that a newcomer would reach for. A spelling in the table must not name a schema
property, a parameter or a segment of an `errors[].field` path anywhere in the OpenAPI documents,
except where the table says it means something else. Reintroduce `number` for a case, `current_org`
or `implementation_code` in any schema and this fails, naming the place.

The event payloads (libs/contracts, docs/asyncapi.yaml) are a published contract and keep their
names; they are not checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.unit.test_openapi_docs import SERVICES, documents, examples_of, operations

__all__ = ["documents"]  # the module-scoped fixture, shared with test_openapi_docs


@dataclass(frozen=True)
class Synonym:
    """`spelling` must not be used for `concept`; `canonical` is its name.

    A place is `<service>:<Schema>` for a schema's properties, `<service>:<METHOD> <path>` for an
    operation's parameters and error paths. `only` limits the ban to places matching it; `unless`
    exempts places where the spelling means another concept. `strings_only` bans the spelling only
    for string values and parameters (an object named `item` holding the item is fine; a string
    `item` holding its code is the synonym).
    """

    concept: str
    canonical: str
    spelling: str
    only: str = ""
    unless: str = ""
    strings_only: bool = False
    why: str = ""

    def bans(self, place: str) -> bool:
        if self.only and not re.search(self.only, place):
            return False
        return not (self.unless and re.search(self.unless, place))


SYNONYMS: tuple[Synonym, ...] = (
    Synonym(
        "case number",
        "case_number",
        "number",
        unless=r"^routing:Window(In|Out)$",
        why="a window's own number (窗口编号) is WindowIn/WindowOut.number",
    ),
    Synonym("case number", "case_number", "case"),
    Synonym("case number", "case_number", "case_no"),
    Synonym(
        "case number",
        "case_number",
        "subject",
        unless=r"^audit:(EntryOut|GET /v1/audit/entries)$",
        why="an audit entry keeps its event's CloudEvents subject: a case number, an item code, ...",
    ),
    Synonym("org unit holding a case", "holding_org", "current_org"),
    Synonym("org unit holding a case", "holding_org", "current_unit"),
    Synonym("item", "item_code", "implementation_code"),
    Synonym("item", "item_code", "item", strings_only=True),
    Synonym(
        "staff member",
        "staff_id",
        "id",
        only=r"^routing:(Staff\w*$|\w+ /v1/staff/)",
        why="departments, windows and tasks keep `id` (a UUID); a staff id is the token's `sub`",
    ),
    Synonym("staff member", "staff_id", "staff", strings_only=True),
    Synonym("staff member", "staff_id", "user_id"),
    Synonym("query code of a case", "query_code", "code", only=r"^intake:GET /v1/public/progress/"),
)

# errors[].field: snake_case names, `.` between them and `[i]` for an entry of a list, as pydantic
# reports a request's invalid input (`applicant.id_number`, `materials[2].form`); or a header as
# HTTP spells it (`Idempotency-Key`).
FIELD_PATH = re.compile(
    r"^[a-z_][a-z0-9_]*(\[\d+\])*(\.[a-z_][a-z0-9_]*(\[\d+\])*)*$|^[A-Z][a-z]*(-[A-Z][a-z]*)+$"
)


@dataclass(frozen=True)
class Name:
    place: str
    name: str
    is_string: bool


def _is_string(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" for o in options)


def _properties(place: str, schema: Any) -> Iterator[Name]:
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            yield Name(place, name, _is_string(sub))
            yield from _properties(place, sub)
        for key in ("items", "additionalProperties"):
            yield from _properties(place, schema.get(key))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for sub in schema.get(key, []):
                yield from _properties(place, sub)


def _field_segments(field: str) -> list[str]:
    if "-" in field:  # a header
        return []
    return [segment for segment in re.split(r"[.\[\]]", field) if segment and not segment.isdigit()]


def names_of(service: str, document: dict[str, Any]) -> Iterator[Name]:
    """Every property, parameter and error-path segment of a document, with where it is."""
    for schema_name, schema in document["components"]["schemas"].items():
        yield from _properties(f"{service}:{schema_name}", schema)
    for operation_name, operation in operations(document):
        place = f"{service}:{operation_name}"
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "header":
                yield Name(place, parameter["name"], True)
        for media in operation.get("requestBody", {}).get("content", {}).values():
            yield from _properties(place, media.get("schema"))
        for response in operation["responses"].values():
            for media in response.get("content", {}).values():
                yield from _properties(place, media.get("schema"))
                for body in examples_of(media):
                    for error in body.get("errors", []) if isinstance(body, dict) else []:
                        for segment in _field_segments(str(error.get("field", ""))):
                            yield Name(place, segment, True)


def violations(all_names: list[Name]) -> list[str]:
    found = []
    for name in all_names:
        for synonym in SYNONYMS:
            if name.name != synonym.spelling or not synonym.bans(name.place):
                continue
            if synonym.strings_only and not name.is_string:
                continue
            found.append(
                f"{name.place}: `{name.name}` for the {synonym.concept}; call it `{synonym.canonical}`"
            )
    return sorted(set(found))


@pytest.fixture(scope="module")
def every_name(documents: dict[str, dict[str, Any]]) -> list[Name]:
    return [name for service in SERVICES for name in names_of(service, documents[service])]


def test_one_name_per_concept(every_name: list[Name]) -> None:
    found = violations(every_name)
    assert not found, "one concept spelled two ways (docs/api-vocabulary.md):\n" + "\n".join(found)


def test_every_canonical_name_is_in_use(every_name: list[Name]) -> None:
    """A table entry whose canonical name no document uses any more has gone stale."""
    used = {name.name for name in every_name}
    stale = sorted({s.canonical for s in SYNONYMS} - used)
    assert not stale, f"canonical names no document uses: {stale}"


def test_the_table_can_fail() -> None:
    """The check itself: each old spelling, put back where issue 18 found it, is caught."""
    old = [
        Name("intake:CaseOut", "number", True),
        Name("intake:GET /v1/public/progress/{case_number}", "code", True),
        Name("audit:GET /v1/audit/entries", "case", True),
        Name("routing:RouteOut", "current_org", True),
        Name("catalogue:ItemOut", "implementation_code", True),
        Name("intake:AcceptApplication", "item", True),
        Name("routing:StaffOut", "id", True),
        Name("routing:GET /v1/staff/{staff_id}", "id", True),
        Name("routing:GET /v1/tasks", "staff", True),
    ]
    assert len(violations(old)) == len(old)
    fine = [
        Name("routing:WindowOut", "number", True),
        Name("audit:EntryOut", "subject", True),
        Name("routing:DepartmentOut", "id", True),
        Name("routing:TaskOut", "id", True),
        Name("intake:CaseOut", "item", False),
        Name("routing:GET /v1/orgs/{code}", "code", True),
    ]
    assert violations(fine) == []


@pytest.mark.parametrize("service", SERVICES)
def test_error_fields_are_paths_into_the_request(documents: dict[str, dict[str, Any]], service: str) -> None:
    """`materials[2].form`, never `materials.M01`: one path syntax for every 422 a client reads."""
    wrong = []
    for operation_name, operation in operations(documents[service]):
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                for body in examples_of(media):
                    for error in body.get("errors", []) if isinstance(body, dict) else []:
                        if not FIELD_PATH.match(str(error.get("field", ""))):
                            wrong.append(f"{operation_name} {status}: {error.get('field')!r}")
    assert not wrong, "\n".join(wrong)
