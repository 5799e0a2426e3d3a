"""Plumbing shared by intake's routes: roles, answers, HTML negotiation."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends
from fastapi.responses import HTMLResponse

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.openapi import ProblemDoc, problem_responses

R = TypeVar("R")

HTML = "text/html"

# Agents record applications on their phones at village points; clerks at township/county windows.
Acceptor = Annotated[Principal, Depends(require_roles(Role.agent, Role.clerk))]
# Complaints go to the supervisors (监察) of the unit complained about.
Supervisor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]


def html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


def problems(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give, with examples
    (`daiban_intake.api.problem_docs` holds intake's own)."""
    return problem_responses(*docs)
