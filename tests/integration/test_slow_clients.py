"""Slow clients against a service served by uvicorn as `daiban serve` serves it: late heads are cut off.

The deadlines are set short here; the test only waits for closes, with a generous bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import uvicorn

from daiban_common.app import create_app
from daiban_common.httpserver import uvicorn_options
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.embedded import free_port
from tests.servers import Network

pytestmark = pytest.mark.integration

HALF_HEAD = b"GET /healthz HTTP/1.1\r\nHost: catalogue\r\nUser-Agent: slow"
CLOSE_WITHIN = 20.0


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[int]:
    """The catalogue service on a real port, with the uvicorn options of `daiban serve`."""
    port = free_port()
    options = uvicorn_options(settings)
    options.pop("loop")  # the test's own loop runs it
    app = create_app(discover_services()["catalogue"], settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True once the server closes the connection (EOF or reset), having answered nothing."""
    try:
        data = await asyncio.wait_for(reader.read(65536), CLOSE_WITHIN)
    except ConnectionResetError:
        return True
    return data == b""


async def response(reader: asyncio.StreamReader) -> bytes:
    """One whole HTTP/1.1 response with a Content-Length body."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLOSE_WITHIN)
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await asyncio.wait_for(reader.readexactly(length), CLOSE_WITHIN)


@pytest.fixture
async def port(network: Network) -> AsyncIterator[int]:
    settings = await network.node("370285000000")
    settings = settings.model_copy(update={"http_header_timeout": 0.5, "http_keep_alive_timeout": 0.5})
    async with served(settings) as port:
        yield port


async def test_connections_that_send_half_a_head_or_nothing_are_closed(port: int) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(40)]
    for index, (_, writer) in enumerate(connections):
        if index % 2 == 0:  # the other half send nothing at all
            writer.write(HALF_HEAD)
            await writer.drain()
    closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in connections))
    assert all(closed)
    for _, writer in connections:
        writer.close()


async def test_a_head_trickled_byte_by_byte_is_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def trickle() -> None:
        # Each byte would reset a keep-alive timer; the head's deadline is not moved by them.
        with contextlib.suppress(ConnectionError):
            for byte in HALF_HEAD * 100:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)

    sender = asyncio.create_task(trickle())
    try:
        assert await closed_by_server(reader)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        writer.close()


async def test_keep_alive_reuse_and_a_slow_body_still_work(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /healthz HTTP/1.1\r\nHost: catalogue\r\n\r\n"
    for _ in range(3):  # one connection, three requests
        writer.write(request)
        assert (await response(reader)).startswith(b"HTTP/1.1 200")
    # A body may take longer than a head: only the head has a deadline.
    body = b'{"name": "slow"}'
    writer.write(
        b"POST /v1/items HTTP/1.1\r\nHost: catalogue\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5]
    )
    await writer.drain()
    await asyncio.sleep(1.5)  # three head deadlines
    writer.write(body[5:])
    answered = await response(reader)
    assert answered.startswith(b"HTTP/1.1 4") and b"application/problem+json" in answered
    # The same connection serves another request, then, left idle, is closed.
    writer.write(request)
    assert (await response(reader)).startswith(b"HTTP/1.1 200")
    assert await closed_by_server(reader)
    writer.close()
