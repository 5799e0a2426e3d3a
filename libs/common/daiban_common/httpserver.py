"""How uvicorn serves a service: with a deadline for each request head, so slow clients are let go.

uvicorn has no header-read timeout (its issue #157, "--timeout-request-start", is still open): its
keep-alive timer is armed only after a response and is cancelled by any byte received, so a
connection that sends half a request head, or nothing at all, is held for ever. 200 of them tie up
as many sockets and file descriptors. Here each request head must arrive whole within
`http_header_timeout` seconds of the first byte of it (or of the connection being made); once the
head is complete the deadline is gone, so bodies, slow handlers and streamed responses are not
affected. Idle kept-alive connections are closed by uvicorn's own `timeout_keep_alive`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from daiban_common.settings import Settings

log = logging.getLogger(__name__)


class HeadDeadlineProtocol(HttpToolsProtocol):
    """httptools protocol that closes a connection whose request head is late."""

    header_timeout: float = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def _awaiting_head(self) -> bool:
        # No request yet, or the last one answered: whatever arrives now is the next request's head.
        # (A head pipelined behind a running response is left to the keep-alive timer, which uvicorn
        # arms once that response is done.)
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_late)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if self._awaiting_head() and not self.transport.is_closing():
            log.info("closing a connection whose request head did not arrive in time: %s", self.client)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head():
            # The first byte of a head on a kept-alive connection: uvicorn drops its keep-alive
            # timer now, so the deadline takes over. Later bytes do not move it.
            self._arm()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # Back to idle: uvicorn's keep-alive timer runs until the next byte arms the deadline.
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def http_protocol(settings: Settings) -> type[HeadDeadlineProtocol]:
    """The protocol class for uvicorn's `http=`, with this node's head deadline."""
    return type(
        "HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"header_timeout": settings.http_header_timeout}
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every service's uvicorn runs with, besides the app, host and port."""
    return {
        "loop": "uvloop",
        "http": http_protocol(settings),
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        # X-Forwarded-For is read by the app, from DAIBAN_TRUSTED_PROXIES only (daiban_common.ratelimit);
        # uvicorn's default would believe any local peer's.
        "proxy_headers": False,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }
