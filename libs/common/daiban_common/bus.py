"""The NATS JetStream connection and the stream every event lives in."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from daiban_common.settings import Settings

log = logging.getLogger(__name__)

EVENT_SUBJECTS = ["daiban.>"]
# Publish deduplication by Nats-Msg-Id only covers this window; consumers keep an inbox anyway.
DUPLICATE_WINDOW_SECONDS = 120.0


async def connect(url: str, *, name: str, credential: Credential | None = None) -> NATS:
    """Connect with endless reconnects: a node keeps running while its link to NATS is down."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    identity: dict[str, str] = {}
    if credential is not None:
        identity = {
            "user": credential.user,
            "password": credential.password,
            "inbox_prefix": credential.inbox_prefix,
        }
    return await nats.connect(
        servers=[url],
        **identity,
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


@dataclass(frozen=True)
class Credential:
    user: str
    password: str

    @property
    def inbox_prefix(self) -> str:
        # The user's own inbox: its permissions let it read replies there and nowhere else.
        return f"_INBOX.{self.user}"


def credential_for(settings: Settings, service: str) -> Credential | None:
    """The NATS identity `service` connects with (daiban_common.settings, `nats_credentials`)."""
    if settings.nats_credentials is not None:
        path = settings.nats_credentials / f"{service}.json"
        if path.exists():
            found = json.loads(path.read_text(encoding="utf-8"))
            return Credential(str(found["user"]), str(found["password"]))
    if settings.nats_user:
        return Credential(settings.nats_user, settings.nats_password)
    return None
