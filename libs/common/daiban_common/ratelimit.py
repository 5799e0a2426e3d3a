"""A small per-client limit for public endpoints that take a secret (a case's query code).

Without one, anyone can try query codes as fast as the service answers. Only failed attempts
(a 404: no case with this number and code) are counted, so a citizen checking progress with the
right code is never locked out; once a client has used up its attempts it gets 429 with
`Retry-After` until its bucket refills. Each service process keeps its own buckets in memory,
a bounded number of them.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from daiban_common.errors import NotFound, TooManyRequests
from daiban_common.openapi import ProblemDoc, problem_responses
from daiban_common.settings import Settings

Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per key: `per_minute` attempts at once, refilled at `per_minute` a minute.

    At most `max_keys` buckets are kept; the least recently used goes first (a full bucket is the
    same as none, and a client's bucket is used whenever it knocks).
    """

    def __init__(self, per_minute: int, *, max_keys: int = 10_000, clock: Clock = time.monotonic) -> None:
        if per_minute < 1 or max_keys < 1:
            raise ValueError("per_minute and max_keys must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _refilled(self, key: str) -> _Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= self.capacity:
            del self._buckets[key]
            return None
        self._buckets.move_to_end(key)
        return bucket

    def acquire(self, key: str) -> int | None:
        """Take one attempt for `key`: None if it may go ahead, else whole seconds to wait.

        Taken before the attempt is made, so many at once cannot all slip through; `refund` it
        if the attempt did not fail."""
        bucket = self._refilled(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, self._clock())
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))
        bucket.tokens -= 1
        return None

    def refund(self, key: str) -> None:
        bucket = self._refilled(key)
        if bucket is not None:
            bucket.tokens = min(self.capacity, bucket.tokens + 1)


def _networks(raw: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in raw if entry.strip()]


def _within(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: Sequence[str] = ()) -> str:
    """The client's IP address. `X-Forwarded-For` is believed only from a trusted proxy (anyone
    else could write any address there): the last address in it that is not a trusted proxy."""
    peer = request.client.host if request.client is not None else "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not _within(peer, networks):
        return peer
    forwarded = [
        hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")
    ]
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _within(hop, networks):
            return hop
    return peer


def _limiter(request: Request, settings: Settings) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "public_limiter", None)
    if not isinstance(limiter, RateLimiter):
        limiter = state.public_limiter = RateLimiter(settings.public_rate_limit)
    return limiter


async def public_attempts(request: Request) -> AsyncIterator[None]:
    """Dependency of a tokenless route that takes a query code: refuse a client that has failed
    too often, and count this attempt only if it fails (the route raises NotFound)."""
    settings: Settings = request.app.state.runtime.settings
    limiter = _limiter(request, settings)
    key = client_address(request, settings.trusted_proxies)
    wait = limiter.acquire(key)
    if wait is not None:
        raise TooManyRequests(f"办件编号或查询码错误次数过多，请{wait}秒后再试", retry_after_seconds=wait)
    failed = False
    try:
        yield
    except NotFound:
        failed = True
        raise
    finally:
        if not failed:
            limiter.refund(key)


PublicAttempts = Depends(public_attempts)

RATE_LIMITED = ProblemDoc(
    429,
    "Too many failed attempts (wrong case number or query code) from this client; "
    "try again after Retry-After seconds",
    detail="办件编号或查询码错误次数过多，请60秒后再试",
)


def rate_limited_responses() -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry for the 429 of a limited route, its `Retry-After` header included."""
    responses = problem_responses(RATE_LIMITED)
    responses[429]["headers"] = {
        "Retry-After": {
            "description": "Seconds until the client may try again",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return responses
