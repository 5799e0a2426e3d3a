"""Plumbing shared by intake's routes: roles, answers, HTML negotiation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.idempotency import Answer
from daiban_common.openapi import ProblemDoc, problem_responses

HTML = "text/html"

# Agents record applications on their phones at village points; clerks at township/county windows.
Acceptor = Annotated[Principal, Depends(require_roles(Role.agent, Role.clerk))]


def respond(answer: Answer) -> JSONResponse:
    return answer.response()


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
