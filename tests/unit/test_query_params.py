"""`only_params`: a filter the route does not know is a 422, not an unfiltered answer."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from daiban_common.errors import InvalidInput
from daiban_common.query_params import only_params


def _request(query: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/v1/tasks", "query_string": query.encode(), "headers": []}
    )


def _check(allowed: tuple[str, ...], query: str) -> None:
    async def check() -> None:
        await only_params(*allowed)(_request(query))

    asyncio.run(check())


def test_known_parameters_pass() -> None:
    _check(("staff_id", "limit"), "staff_id=js-a&limit=5")


def test_a_renamed_filter_is_refused_naming_it() -> None:
    """`?staff=` was the tasks' filter before docs/api-vocabulary.md named it `staff_id`."""
    with pytest.raises(InvalidInput) as raised:
        _check(("org", "staff_id"), "staff=js-a&org=370285000000&item=x")
    assert [e.field for e in raised.value.errors] == ["item", "staff"]
    assert "staff_id" in raised.value.detail
