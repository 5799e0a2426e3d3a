"""Plumbing shared by intake's routes: roles, Idempotency-Key, answers, HTML negotiation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_intake.idempotency import Answer, Once, fingerprint

HTML = "text/html"

# Agents record applications on their phones at village points; clerks at township/county windows.
Acceptor = Annotated[Principal, Depends(require_roles(Role.agent, Role.clerk))]

_KEY_DOC = "Required. Retrying with the same key and body replays the first answer; another body is a 409."
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", description=_KEY_DOC
    ),
]
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$"),
]


def once(request: Request, actor: str, key: str, body: BaseModel) -> Once:
    return Once(actor, key, fingerprint(request.method, request.url.path, body.model_dump(mode="json")))


def respond(answer: Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(
        answer.body, status_code=answer.status_code, media_type=answer.media_type, headers=headers
    )


def wants_html(request: Request) -> bool:
    """`Accept: text/html` asks for the printable page (a browser or a print client)."""
    accept = request.headers.get("accept", "")
    return HTML in accept and not accept.lstrip().startswith("application/json")


def html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


def problems(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give, with examples
    (`daiban_intake.api.problem_docs` holds intake's own)."""
    return problem_responses(*docs)
