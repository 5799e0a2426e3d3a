"""The servers a node needs: external ones named by URL, or embedded ones started here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from daiban_common.db import ensure_database, with_database
from daiban_common.settings import Settings
from daiban_devtools.embedded import EmbeddedNats, EmbeddedPostgres, port_is_open


@dataclass
class DevStack:
    settings: Settings
    database: str = "daiban"
    # False: the nodes bring nats-servers of their own (`daiban run --tiers`).
    with_nats: bool = True
    pg: EmbeddedPostgres | None = field(default=None, init=False)
    nats: EmbeddedNats | None = field(default=None, init=False)
    database_url: str = field(default="", init=False)
    nats_url: str = field(default="", init=False)

    def start(self) -> None:
        var = self.settings.var_dir.resolve()
        if self.settings.database_url:
            self.database_url = self.settings.database_url
        else:
            self.pg = EmbeddedPostgres(var / "postgres", self.settings.embedded_pg_port)
            server_url = self.pg.start()
            asyncio.run(ensure_database(server_url, self.database))
            self.database_url = with_database(server_url, self.database)
        if self.settings.nats_url or not self.with_nats:
            self.nats_url = self.settings.nats_url
        else:
            port = self.settings.embedded_nats_port
            if port_is_open(port):
                raise RuntimeError(
                    f"127.0.0.1:{port} is already in use (another `make run`?); "
                    "stop it or set DAIBAN_EMBEDDED_NATS_PORT"
                )
            self.nats = EmbeddedNats(var / "nats", port)
            self.nats_url = self.nats.start()

    def env(self) -> dict[str, str]:
        return {"DAIBAN_DATABASE_URL": self.database_url, "DAIBAN_NATS_URL": self.nats_url}

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()
