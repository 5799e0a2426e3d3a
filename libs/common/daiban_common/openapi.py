"""What the OpenAPI documents say about errors, and where their examples come from.

Every 4xx a service answers is RFC 9457 `application/problem+json` (see `errors`), so the
documents describe one `Problem` schema instead of FastAPI's `HTTPValidationError`, and every
error response carries an example a front-end developer can code against: a Chinese `detail`, and
for validation errors the field at fault in `errors[].field`.

A route declares the errors it answers with `problem_responses(...)`:

    @router.post("/v1/cases/{number}/handover", responses=problem_responses(
        ProblemDoc(409, "The case has no decision to hand over yet",
                   detail="办件尚未办结，不能送达", type="/problems/conflict"),
        404,
    ))

Statuses the route's signature already implies (401 for a token, 403 for a role, 404 for a path
parameter, 409 for an `Idempotency-Key`, 413 for a body, 422 for any input) are added with default
examples by `daiban_common.openapi_build`, so a route only spells out what is particular to it.

Examples of request and response bodies live in each service's `openapi_examples.py`, keyed by the
component schema name, and reach the document through `ServiceSpec.openapi_examples`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from daiban_common.errors import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)

__all__ = [
    "INSTANCE_PLACEHOLDER",
    "PROBLEM_SCHEMA",
    "OpenApiExamples",
    "ProblemBody",
    "ProblemDoc",
    "ProblemFieldError",
    "default_problem",
    "problem_responses",
]

PROBLEM_SCHEMA: Final = "Problem"
PROBLEM_REF: Final = f"#/components/schemas/{PROBLEM_SCHEMA}"
# The answer of `negotiation.conditional` when the client already holds the body.
NOT_MODIFIED: Final[dict[str, Any]] = {"description": "Not modified (If-None-Match matched the ETag)"}
# Replaced by the operation's path (with example parameter values) when the document is built.
INSTANCE_PLACEHOLDER: Final = "{instance}"


class ProblemFieldError(BaseModel):
    field: str = Field(description="Dotted path of the input at fault, e.g. `applicant.id_number`")
    message: str = Field(description="Chinese message fit to show next to the field")


class ProblemBody(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    model_config = ConfigDict(extra="allow", title=PROBLEM_SCHEMA)

    type: str = Field(description="Relative URI naming the kind of problem, e.g. `/problems/validation`")
    title: str = Field(description="Short English summary of the problem type")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="Chinese explanation fit to show a clerk or citizen")
    instance: str = Field(description="The request path")
    errors: list[ProblemFieldError] = Field(
        description="The invalid fields (empty unless the input was invalid)"
    )


_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "The request is malformed",
    401: "No valid bearer token: missing, malformed, expired or not signed by this network",
    403: "The caller's role may not do this, or the token's org unit is not one this node serves",
    404: "Does not exist, or lies outside the caller's org subtree (existence is not revealed)",
    405: "Method not allowed on this path",
    406: "The requested representation cannot be produced",
    409: "Conflicts with the current state, or the Idempotency-Key was used for another request",
    412: "The resource changed since it was read",
    413: "The request body is over 1 MiB",
    415: "Unsupported request content type",
    422: "Invalid input; `errors` names each field at fault",
    428: "A required precondition header is missing",
    429: "Too many requests; retry after the `Retry-After` seconds",
    500: "Unexpected error (logged; no internals are sent)",
    503: "A dependency is unavailable; retry later",
}

_DEFAULTS: Final[Mapping[int, type[Problem]]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: TooManyRequests,
    500: Problem,
    503: ServiceUnavailable,
}


@dataclass(frozen=True)
class ProblemDoc:
    """One documented error of a route: its status, when it happens, and an example body.

    Fields left out take the defaults of the status (the `errors` module's problem classes).
    Several docs with one status become several named examples of that response.
    """

    status: int
    description: str | None = None
    detail: str | None = None
    type: str | None = None
    title: str | None = None
    # (field, message) pairs; for 422 a field is always given (a default one if left out).
    errors: Sequence[tuple[str, str]] = ()
    extensions: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    def body(self, instance: str = INSTANCE_PLACEHOLDER) -> dict[str, Any]:
        base = _DEFAULTS.get(self.status)
        title = self.title or (
            base.title if base is not None and base is not Problem else _phrase(self.status)
        )
        body: dict[str, Any] = {
            "type": self.type or (base.type if base is not None else f"/problems/{self.status}"),
            "title": title,
            "status": self.status,
            "detail": self.detail or (base.default_detail if base is not None else "请求无法处理"),
            "instance": instance,
            "errors": [{"field": f, "message": m} for f, m in self.errors],
        }
        body.update(self.extensions)
        return body

    @property
    def example_name(self) -> str:
        return self.name or (self.type or "").rsplit("/", 1)[-1] or "default"


# Every route that reads a token may answer this (daiban_common.auth.OrgGate).
ORG_NOT_SERVED: Final = ProblemDoc(
    403,
    description=(
        "The token's org unit is not served by this node: above the county, in another county, "
        "or not in the county's directory"
    ),
    detail="身份令牌所属单位370285199001不是本节点所辖（370285000000）区划目录中的单位，无权访问",
    type="/problems/org-not-served",
    title="Org unit not served by this node",
)


def default_problem(status: int) -> ProblemDoc:
    """The example used when a route does not describe a status it answers."""
    if status == 413:
        return ProblemDoc(413, detail="请求内容超过1 MiB的上限", extensions={"max_bytes": 1024 * 1024})
    if status == 429:
        return ProblemDoc(429, detail=TooManyRequests.default_detail)
    return ProblemDoc(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def description_of(status: int) -> str:
    return _DESCRIPTIONS.get(status, _phrase(status))


def problem_responses(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the errors a route answers, each with a problem+json example.

    A bare status uses the default description and example (a 422 without fields gets one from
    the route's own inputs when the document is built).
    """
    grouped: dict[int, list[ProblemDoc]] = {}
    for doc in docs:
        entry = ProblemDoc(doc) if isinstance(doc, int) else doc
        grouped.setdefault(entry.status, []).append(entry)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, entries in grouped.items():
        explicit = [e for e in entries if e != ProblemDoc(status)]
        descriptions = [e.description for e in entries if e.description]
        media: dict[str, Any] = {"schema": {"$ref": PROBLEM_REF}}
        if explicit:
            media["examples"] = _named_examples(explicit)
        responses[status] = {
            "description": "; ".join(descriptions) if descriptions else description_of(status),
            "content": {PROBLEM_MEDIA_TYPE: media},
        }
    return responses


def _named_examples(docs: Sequence[ProblemDoc]) -> dict[str, dict[str, Any]]:
    examples: dict[str, dict[str, Any]] = {}
    for doc in docs:
        name = doc.example_name
        suffix = 2
        while name in examples:
            name = f"{doc.example_name}_{suffix}"
            suffix += 1
        examples[name] = {"summary": doc.description or description_of(doc.status), "value": doc.body()}
    return examples


@dataclass(frozen=True)
class OpenApiExamples:
    """A service's examples, keyed by what the generated document names.

    - `schemas`: component schema name -> one example value (request and response bodies). A
      `Page_X_` response is exemplified from `X` automatically.
    - `parameters`: parameter name -> example value (path and query parameters); also used to
      write the `instance` of error examples.
    - `operations`: `"GET /v1/path/{id}"` -> {status (or "request"): {media type: example}} for
      what has no schema of its own (HTML pages, CSV uploads and downloads).
    """

    schemas: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    operations: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> OpenApiExamples:
        """Examples kept as JSON beside the service (`{"schemas", "parameters", "operations"}`).

        They are answers recorded from a running suite and trimmed; the OpenAPI test checks each
        against its schema, so they cannot drift from the models unnoticed.
        """
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(data) - {"schemas", "parameters", "operations"}
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        return cls(
            schemas=data.get("schemas", {}),
            parameters=data.get("parameters", {}),
            operations=data.get("operations", {}),
        )
