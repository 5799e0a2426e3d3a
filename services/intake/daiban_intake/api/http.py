"""Plumbing shared by intake's routes: roles, answers, HTML negotiation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from daiban_common.auth import Principal, Role, require_roles
from daiban_common.idempotency import Answer
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_intake.handlers.common import Replayed

R = TypeVar("R")

HTML = "text/html"

# Agents record applications on their phones at village points; clerks at township/county windows.
Acceptor = Annotated[Principal, Depends(require_roles(Role.agent, Role.clerk))]
# Complaints go to the supervisors (监察) of the unit complained about.
Supervisor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]


class Answering(Generic[R]):
    """How a route answers a handler's result. The handler is given it to store that answer with
    the change (for retries under the same Idempotency-Key); the route then sends it, or the answer
    a retry replays."""

    def __init__(self, present: Callable[[R], Answer]) -> None:
        self._present = present

    def __call__(self, result: R) -> Answer:
        return self._present(result)

    def respond(self, result: R | Replayed) -> JSONResponse:
        return (result.answer if isinstance(result, Replayed) else self(result)).response()


def answering(present: Callable[[R], BaseModel], location: Callable[[R], str]) -> Answering[R]:
    """201 with the presented body and, in `Location`, where the created thing is read."""
    return Answering(
        lambda result: Answer(
            201, present(result).model_dump(mode="json"), headers={"Location": location(result)}
        )
    )


def answering_ok(present: Callable[[R], BaseModel]) -> Answering[R]:
    """200 with the presented body (a POST that changes something and creates nothing)."""
    return Answering(lambda result: Answer(200, present(result).model_dump(mode="json")))


def html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


def problems(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give, with examples
    (`daiban_intake.api.problem_docs` holds intake's own)."""
    return problem_responses(*docs)
