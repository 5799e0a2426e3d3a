"""Refusing query parameters a route does not know.

A misspelt or renamed filter (`?staff=` for `?staff_id=`, docs/api-vocabulary.md) would otherwise
be ignored silently, and the caller would take an unfiltered answer for a filtered one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from daiban_common.errors import FieldError, InvalidInput


def only_params(*allowed: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency answering 422, naming each one, for query parameters not in `allowed`."""
    known = frozenset(allowed)

    async def check(request: Request) -> None:
        unknown = sorted(set(request.query_params.keys()) - known)
        if unknown:
            raise InvalidInput(
                f"不支持的查询参数：{'、'.join(unknown)}；可用的参数有：{'、'.join(allowed)}",
                errors=[FieldError(name, "不支持的查询参数") for name in unknown],
            )

    return check
