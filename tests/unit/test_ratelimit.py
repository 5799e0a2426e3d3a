"""The public-endpoint limiter: token buckets per client on a fake clock, and whose address counts."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from daiban_common.ratelimit import RateLimiter, client_address
from daiban_common.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_may_fail_its_allowance_then_waits_for_the_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(6, clock=clock)  # six at once, one every ten seconds
    for _ in range(6):
        assert limiter.acquire("a") is None
    assert limiter.acquire("a") == 10
    clock.now += 4
    assert limiter.acquire("a") == 6
    clock.now += 6
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") == 10
    # Another client is not affected.
    assert limiter.acquire("b") is None


def test_attempts_that_did_not_fail_are_refunded() -> None:
    limiter = RateLimiter(3, clock=FakeClock())
    for _ in range(100):
        assert limiter.acquire("a") is None
        limiter.refund("a")
    # Taken before the outcome is known: three in flight at once use the allowance up.
    assert [limiter.acquire("a") for _ in range(4)] == [None, None, None, 20]


def test_a_full_bucket_is_forgotten_and_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, max_keys=3, clock=clock)
    for key in "abcd":
        limiter.acquire(key)
    assert len(limiter) == 3  # "a", the least recently used, went first
    clock.now += 1.0  # one a second: every bucket is full again
    limiter.refund("b")
    assert len(limiter) == 2


def test_retry_after_is_at_least_a_second() -> None:
    limiter = RateLimiter(600, clock=FakeClock())
    for _ in range(600):
        limiter.acquire("a")
    assert limiter.acquire("a") == 1


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 5000), "headers": headers, "method": "GET", "path": "/"})


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    assert client_address(request("203.0.113.9", "198.51.100.1"), ["10.0.0.0/8"]) == "203.0.113.9"
    trusted = ["10.0.0.0/8", "127.0.0.1"]
    assert client_address(request("10.1.2.3", "198.51.100.1"), trusted) == "198.51.100.1"
    # The client can write anything on the left; the last hop the proxies did not add counts.
    assert client_address(request("10.1.2.3", "1.2.3.4, 198.51.100.1, 10.9.9.9"), trusted) == "198.51.100.1"
    assert client_address(request("127.0.0.1"), trusted) == "127.0.0.1"


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAIBAN_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    monkeypatch.setenv("DAIBAN_TRUSTED_PROXIES", "proxy.local")
    with pytest.raises(ValueError, match="DAIBAN_TRUSTED_PROXIES"):
        Settings()
