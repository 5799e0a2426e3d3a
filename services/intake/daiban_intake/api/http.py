"""Plumbing shared by intake's routes: roles, answers, HTML negotiation."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends
from fastapi.responses import HTMLResponse

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_common.staffdir import known_staff_member
from daiban_intake.context import ContextDep

R = TypeVar("R")

HTML = "text/html"

_agent_or_clerk = require_roles(Role.agent, Role.clerk)


async def _acceptor(
    principal: Annotated[Principal, Depends(_agent_or_clerk)], context: ContextDep
) -> Principal:
    # What they do is recorded under their name: the directory must know them where they work.
    await known_staff_member(context.staff, principal)
    return principal


# Agents record applications on their phones at village points; clerks at township/county windows;
# either one the directory (routing's staff) knows at the token's org.
Acceptor = Annotated[Principal, Depends(_acceptor)]
# Complaints go to the supervisors (监察) of the unit complained about.
Supervisor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]


def html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


def problems(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give, with examples
    (`daiban_intake.api.problem_docs` holds intake's own)."""
    return problem_responses(*docs)
