"""The NATS JetStream connection and the stream every event lives in."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

EVENT_SUBJECTS = ["daiban.>"]
# Publish deduplication by Nats-Msg-Id only covers this window; consumers keep an inbox anyway.
DUPLICATE_WINDOW_SECONDS = 120.0


async def connect(url: str, *, name: str) -> NATS:
    """Connect with endless reconnects: a node keeps running while its link to NATS is down."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    return await nats.connect(
        servers=[url],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=3,
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        # Consumers and relay are stopped before the drain, so anything slower is a stuck server.
        drain_timeout=5,
    )


async def ensure_stream(js: JetStreamContext, name: str, subjects: list[str] | None = None) -> None:
    """Create the event stream if missing, or give it `subjects` if it has others (a township node
    joined or left the county node's: daiban_contracts.subjects.Subjects.node_stream). File
    storage; fsync policy is the server's (always)."""
    config = StreamConfig(
        name=name,
        subjects=subjects or EVENT_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=0,
    )
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream %s", name)
        return
    if sorted(info.config.subjects or []) != sorted(config.subjects or []):
        # What the stream stored under its former subjects stays in it; only new events differ.
        await js.update_stream(info.config.evolve(subjects=config.subjects))
        log.info("stream %s now holds %d subject spaces", name, len(config.subjects or []))
