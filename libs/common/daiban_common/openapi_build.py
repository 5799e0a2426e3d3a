"""Completing FastAPI's generated OpenAPI document: problem+json errors and examples everywhere.

`install_openapi(app, examples)` replaces `app.openapi` with a builder that takes FastAPI's
document and then, for every operation:

- drops FastAPI's `HTTPValidationError` / `ValidationError` schemas and describes every 4xx/5xx
  as `application/problem+json` with the `Problem` schema;
- adds the errors the route's signature implies: 401 where a token is read, 403 where a role is
  required, 404 for path parameters, 409 for an `Idempotency-Key`, 413 for a body, 422 for inputs;
- gives each error an example (the route's own from `problem_responses`, else a default one
  whose 422 names a real input of the route);
- sets the example request and response bodies from the service's `OpenApiExamples`.

What cannot be derived stays missing, and the OpenAPI test of the suite names it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from daiban_common.auth import Role, get_principal, optional_principal
from daiban_common.errors import PROBLEM_MEDIA_TYPE
from daiban_common.idempotency import HEADER, KEY_REUSED, REPLAYED_HEADER
from daiban_common.openapi import (
    INSTANCE_PLACEHOLDER,
    ORG_NOT_SERVED,
    PROBLEM_REF,
    PROBLEM_SCHEMA,
    OpenApiExamples,
    ProblemBody,
    ProblemDoc,
    default_problem,
    description_of,
)

__all__ = ["complete_document", "install_openapi"]

_FASTAPI_VALIDATION_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options")
_IDEMPOTENCY_HEADER: Final = HEADER.lower()
_REPLAYED_DOC: Final = {
    "description": "`true` when this answer replays the one stored for the same Idempotency-Key and body",
    "schema": {"type": "string", "enum": ["true"]},
}

_LOCATION_DOC: Final = {
    "description": "Where the created resource is read (a path on this service)",
    "schema": {"type": "string", "format": "uri-reference"},
}

# Examples of what every service shares: probes and metrics.
_COMMON_SCHEMAS: Final[Mapping[str, Any]] = {
    "Liveness": {"status": "ok"},
    "Readiness": {"status": "ready", "checks": {"database": "ok", "nats": "ok", "consumers": "ok"}},
}
_METRICS_EXAMPLE: Final = (
    "# HELP http_requests_total HTTP requests served, by route template and status\n"
    "# TYPE http_requests_total counter\n"
    'http_requests_total{method="POST",route="/v1/applications",status="201"} 2.0\n'
    "# HELP outbox_pending Outbox rows committed but not yet acknowledged by JetStream\n"
    "# TYPE outbox_pending gauge\n"
    "outbox_pending 0.0\n"
)


def install_openapi(app: FastAPI, examples: OpenApiExamples | None = None) -> None:
    """Make `app.openapi()` return the completed document (built once, then cached)."""
    given = examples or OpenApiExamples()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = complete_document(document, _routes_by_operation(app), given)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _routes_by_operation(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Each operation's route, to read its dependencies (auth, roles) from.

    FastAPI keeps included routers as lazy branches; `iter_route_contexts` (where it exists)
    yields every route with its effective path, as `get_openapi` sees them.
    """
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    found: dict[tuple[str, str], APIRoute] = {}
    for item in contexts(app.routes) if contexts is not None else app.routes:
        route = getattr(item, "original_route", item)
        if isinstance(route, APIRoute):
            path = getattr(item, "path_format", None) or route.path_format
            for method in getattr(item, "methods", None) or route.methods or ():
                found[(str(method).lower(), str(path))] = route
    return found


def complete_document(
    document: dict[str, Any],
    routes: Mapping[tuple[str, str], APIRoute],
    examples: OpenApiExamples,
) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    _add_problem_schema(schemas)
    declared = {name: s["examples"][0] for name, s in schemas.items() if s.get("examples")}
    known = {**declared, **_COMMON_SCHEMAS, **examples.schemas}
    for name, example in known.items():
        if name in schemas:
            schemas[name]["examples"] = [example]
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            route = routes.get((method, path))
            _complete_operation(method, path, operation, route, schemas, known, examples)
    return doc


def _add_problem_schema(schemas: dict[str, Any]) -> None:
    schema = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schema["examples"] = [default_problem(404).body("/v1/cases/370285101201202500001")]
    schemas[PROBLEM_SCHEMA] = schema


# ---------------------------------------------------------------------------------------------
# One operation


def _complete_operation(
    method: str,
    path: str,
    operation: dict[str, Any],
    route: APIRoute | None,
    schemas: Mapping[str, Any],
    known: Mapping[str, Any],
    examples: OpenApiExamples,
) -> None:
    key = f"{method.upper()} {path}"
    overrides = examples.operations.get(key, {})
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    for parameter in parameters:
        if parameter["name"] in examples.parameters and "example" not in parameter:
            parameter["example"] = examples.parameters[parameter["name"]]
    instance = _instance(path, parameters, examples.parameters)
    if _token_optional(route) and operation.get("security"):
        # A token is read if sent (to attribute the request) but none is needed: `{}` says so.
        operation["security"] = [*operation["security"], {}]
    _request_example(operation, overrides.get("request", {}), known)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for implied in _implied_statuses(operation, route):
        responses.setdefault(str(implied), {"description": description_of(implied)})
    for status, response in responses.items():
        code = int(status) if status.isdigit() else 0
        if code >= 400:
            _problem_response(code, response, operation, route, instance, schemas)
        elif 200 <= code < 300:
            _success_example(response, overrides.get(status, {}), known, schemas, path)
            if _idempotent(operation):
                response.setdefault("headers", {})[REPLAYED_HEADER] = _REPLAYED_DOC
            if code == 201:
                # Every 201 of ours carries it (tests/integration checks each service's).
                response.setdefault("headers", {})["Location"] = _LOCATION_DOC
    # Keep the statuses in order: a reader scans them top to bottom.
    operation["responses"] = dict(sorted(responses.items()))


def _instance(path: str, parameters: list[dict[str, Any]], values: Mapping[str, Any]) -> str:
    for parameter in parameters:
        if parameter.get("in") == "path":
            value = parameter.get("example", values.get(parameter["name"]))
            if value is not None:
                path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def _request_example(
    operation: dict[str, Any], override: Mapping[str, Any], known: Mapping[str, Any]
) -> None:
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    for media_type, media in content.items():
        if media_type in override:
            media["example"] = override[media_type]
        elif "example" not in media and "examples" not in media:
            example = _example_for(media.get("schema", {}), known)
            if example is not None:
                media["example"] = example


def _success_example(
    response: dict[str, Any],
    override: Mapping[str, Any],
    known: Mapping[str, Any],
    schemas: Mapping[str, Any],
    path: str,
) -> None:
    content: dict[str, Any] = response.get("content", {})
    for media_type, media in content.items():
        if media_type in override:
            media["example"] = override[media_type]
        elif "example" in media or "examples" in media:
            continue
        elif media_type == "text/plain" and path == "/metrics":
            media["example"] = _METRICS_EXAMPLE
        else:
            example = _example_for(media.get("schema", {}), known)
            if example is not None:
                media["example"] = example


def _example_for(schema: Mapping[str, Any], known: Mapping[str, Any]) -> Any:
    """An example for a schema: a known component, a page of one, or a list of one.

    `known` holds the examples by component name, those of the service and those the models
    declare themselves (`json_schema_extra={"examples": [...]}`).
    """
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in known:
            return copy.deepcopy(known[name])
        if name.startswith("Page_") and name.endswith("_"):
            item = known.get(name[len("Page_") : -1])
            if item is not None:
                return {"items": [copy.deepcopy(item)], "next_cursor": "eyJrIjpbIjIwMjUtMDEtMDIiXX0"}
        return None
    if schema.get("type") == "array":
        item = _example_for(schema.get("items", {}), known)
        return None if item is None else [item]
    for option in schema.get("anyOf", []):
        found = _example_for(option, known)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------------------
# Errors


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependencies(sub)


def _required_roles(route: APIRoute | None) -> tuple[frozenset[Role], str] | None:
    """The roles a `require_roles(...)` dependency of the route lets through, and their labels as
    its 403 names them, if the route has one."""
    if route is None:
        return None
    for call in _dependencies(route.dependant):
        if getattr(call, "__module__", "") == "daiban_common.auth" and call.__name__ == "principal_with_role":
            cells = inspect.getclosurevars(call).nonlocals
            allowed, needed = cells.get("allowed"), cells.get("needed")
            if isinstance(allowed, frozenset) and isinstance(needed, str):
                return frozenset(Role(role) for role in allowed), needed
    return None


def _reads_token(route: APIRoute | None) -> bool:
    return route is not None and any(
        call in (get_principal, optional_principal) for call in _dependencies(route.dependant)
    )


def _token_optional(route: APIRoute | None) -> bool:
    calls = list(_dependencies(route.dependant)) if route is not None else []
    return optional_principal in calls and get_principal not in calls


def _idempotent(operation: Mapping[str, Any]) -> bool:
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    return any(p.get("in") == "header" and p["name"].lower() == _IDEMPOTENCY_HEADER for p in parameters)


def _implied_statuses(operation: Mapping[str, Any], route: APIRoute | None) -> list[int]:
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    statuses: list[int] = []
    if _reads_token(route):
        # 403 too: a valid token of an org unit the node does not serve is refused (auth.OrgGate).
        statuses += [401, 403]
    elif _required_roles(route) is not None:
        statuses.append(403)
    if any(p.get("in") == "path" for p in parameters):
        statuses.append(404)
    if _idempotent(operation):
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    if "requestBody" in operation or any(_can_fail_validation(p) for p in parameters):
        statuses.append(422)
    return statuses


def _can_fail_validation(parameter: Mapping[str, Any]) -> bool:
    # A free string path parameter cannot fail validation; anything else can.
    schema = parameter.get("schema", {})
    unconstrained = schema.get("type") == "string" and not (
        {"pattern", "maxLength", "minLength"} & set(schema)
    )
    return not (parameter.get("in") == "path" and unconstrained)


def _problem_response(
    status: int,
    response: dict[str, Any],
    operation: Mapping[str, Any],
    route: APIRoute | None,
    instance: str,
    schemas: Mapping[str, Any],
) -> None:
    content: dict[str, Any] = response.setdefault("content", {})
    json_media = content.pop("application/json", None)
    media: dict[str, Any] = content.setdefault(PROBLEM_MEDIA_TYPE, {})
    if json_media and "$ref" in json_media.get("schema", {}):
        ref = json_media["schema"]["$ref"]
        if not ref.endswith(("/HTTPValidationError", "/ValidationError")) and "schema" not in media:
            media["schema"] = json_media["schema"]
    media.setdefault("schema", {"$ref": PROBLEM_REF})
    if response.get("description") in (None, "", "Validation Error", "Successful Response"):
        response["description"] = description_of(status)
    if "example" in media:
        media["example"] = _with_instance(media["example"], instance)
        return
    named: dict[str, Any] = media.get("examples") or {}
    if not named:
        doc = _default_doc(status, operation, route, schemas)
        named = {doc.example_name: {"summary": response["description"], "value": doc.body()}}
    elif status == 403 and _required_roles(route) is not None and "role" not in named:
        # A route's own 403s come on top of the role check every caller passes first.
        role = _default_doc(403, operation, route, schemas)
        named = {"role": {"summary": description_of(403), "value": role.body()}, **named}
    if status == 403 and _reads_token(route) and ORG_NOT_SERVED.example_name not in named:
        named = {
            **named,
            ORG_NOT_SERVED.example_name: {
                "summary": ORG_NOT_SERVED.description,
                "value": ORG_NOT_SERVED.body(),
            },
        }
    for entry in named.values():
        entry["value"] = _with_instance(entry["value"], instance)
        if (
            status == 422
            and not entry["value"].get("errors")
            and entry["value"].get("type") == "/problems/validation"
        ):
            entry["value"]["errors"] = _default_doc(422, operation, route, schemas).body()["errors"]
    media["examples"] = named


def _with_instance(body: Any, instance: str) -> Any:
    if isinstance(body, dict) and body.get("instance") == INSTANCE_PLACEHOLDER:
        return {**body, "instance": instance}
    return body


def _default_doc(
    status: int, operation: Mapping[str, Any], route: APIRoute | None, schemas: Mapping[str, Any]
) -> ProblemDoc:
    if status == 403:
        required = _required_roles(route)
        if required is not None:
            roles, needed = required
            other = next(role for role in (Role.agent, Role.auditor, Role.clerk) if role not in roles)
            return ProblemDoc(403, detail=f"此操作仅限{needed}办理，您的角色是{other.label}")
        if _reads_token(route):
            return ORG_NOT_SERVED
    if status == 401:
        return ProblemDoc(401, detail="缺少身份令牌，请先登录")
    if status == 409 and _idempotent(operation):
        return KEY_REUSED
    if status == 422:
        field, message = _a_field_at_fault(operation, schemas)
        return ProblemDoc(422, errors=[(field, message)])
    return default_problem(status)


def _a_field_at_fault(operation: Mapping[str, Any], schemas: Mapping[str, Any]) -> tuple[str, str]:
    """A plausible invalid input of the operation, so the 422 example names a real field."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        return _body_field(body.get("schema", {}), schemas)
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "header" and parameter.get("required"):
            return parameter["name"], "必填字段缺失"
    for parameter in parameters:
        if parameter["name"] == "limit":
            return "limit", "不能大于100"
    for parameter in parameters:
        if _can_fail_validation(parameter):
            return parameter["name"], "格式不正确"
    return "body", "缺少请求体"


def _body_field(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> tuple[str, str]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return "body", "缺少请求体"
    component = schemas.get(ref.rsplit("/", 1)[-1], {})
    required: list[str] = component.get("required", [])
    if required:
        return required[0], "必填字段缺失"
    return "body", "请求体格式不正确"
