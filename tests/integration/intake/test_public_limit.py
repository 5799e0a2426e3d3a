"""Guessing query codes: a client that fails too often on the public endpoints gets 429."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from daiban_common.ratelimit import RateLimiter
from tests.integration.intake.conftest import Intake
from tests.integration.intake.helpers import application, bearer, keyed

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def client_from(intake: Intake, address: str) -> httpx.AsyncClient:
    """A client of the same in-process service, seen as coming from `address`."""
    transport = httpx.ASGITransport(app=intake.client._transport.app, client=(address, 40000))  # type: ignore[attr-defined]
    return httpx.AsyncClient(transport=transport, base_url="http://intake")


async def test_wrong_query_codes_are_cut_off_with_retry_after(intake: Intake) -> None:
    accepted = await intake.client.post(
        "/v1/applications", json=application(), headers=keyed(bearer(intake.settings))
    )
    number, code = accepted.json()["case_number"], accepted.json()["query_code"]
    allowed = intake.settings.public_rate_limit
    # The limiter's clock stands still: on a loaded machine the test may take longer than the few
    # seconds a token takes to come back, which would let one more guess through.
    app = intake.client._transport.app  # type: ignore[attr-defined]
    app.state.public_limiter = RateLimiter(allowed, clock=lambda: 1_000.0)
    async with client_from(intake, "198.51.100.7") as citizen, client_from(intake, "203.0.113.66") as guesser:
        # Right codes are never counted: a citizen may look as often as they like.
        for _ in range(allowed + 5):
            assert (
                await citizen.get(f"/v1/public/progress/{number}", params={"query_code": code})
            ).status_code == 200

        async def guess(n: int) -> httpx.Response:
            return await guesser.get(f"/v1/public/progress/{number}", params={"query_code": f"WRONG{n:03d}"})

        answers = await asyncio.gather(*(guess(n) for n in range(allowed + 30)))
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(404) == allowed and statuses.count(429) == 30
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert int(refused.headers["Retry-After"]) >= 1
        body = refused.json()
        assert body["status"] == 429 and "查询码错误次数过多" in body["detail"]

        # Once cut off, the other tokenless endpoints that take a query code refuse it as well,
        # and claiming to be someone else in X-Forwarded-For does not help (no proxy is trusted).
        evaluation = await guesser.post(
            "/v1/public/evaluations",
            json={"case_number": number, "query_code": "WRONG999", "level": "satisfied"},
        )
        complaint = await guesser.post(
            "/v1/complaints",
            json={"target": "case", "case_number": number, "query_code": "WRONG999", "summary": "试探"},
        )
        spoofed = await guesser.get(
            f"/v1/public/progress/{number}",
            params={"query_code": code},
            headers={"X-Forwarded-For": "192.0.2.1"},
        )
        assert evaluation.status_code == complaint.status_code == spoofed.status_code == 429
        # Other clients are not affected.
        assert (
            await citizen.get(f"/v1/public/progress/{number}", params={"query_code": code})
        ).status_code == 200


async def test_the_limit_is_documented_on_the_limited_operations(intake: Intake) -> None:
    paths = (await intake.client.get("/openapi.json")).json()["paths"]
    for path, method in (
        ("/v1/public/progress/{case_number}", "get"),
        ("/v1/public/evaluations", "post"),
        ("/v1/complaints", "post"),
    ):
        limited = paths[path][method]["responses"]["429"]
        assert PROBLEM in limited["content"] and "Retry-After" in limited["headers"]
