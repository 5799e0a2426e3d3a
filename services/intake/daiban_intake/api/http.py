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


def answering(present: Callable[[R], BaseModel], status: int = 201) -> Answering[R]:
    """`status` with the presented body."""
    return Answering(lambda result: Answer(status, present(result).model_dump(mode="json")))


def html(page: str) -> HTMLResponse:
    return HTMLResponse(page)


def problems(*docs: int | ProblemDoc) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers a route can give, with examples
    (`daiban_intake.api.problem_docs` holds intake's own)."""
    return problem_responses(*docs)
