"""The servers a node needs: external ones named by URL, or embedded ones started here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from daiban_common.db import ensure_database, with_database
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_contracts.subjects import Subjects
from daiban_devtools import nats_systems, natsconf
from daiban_devtools.credentials import server_env, service_credentials
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
    # The services' credentials for the embedded server (DAIBAN_NATS_CREDENTIALS).
    nats_credentials: Path | None = field(default=None, init=False)

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
            self.nats_credentials = self.settings.nats_credentials
        else:
            port = self.settings.embedded_nats_port
            if port_is_open(port):
                raise RuntimeError(
                    f"127.0.0.1:{port} is already in use (another `make run`?); "
                    "stop it or set DAIBAN_EMBEDDED_NATS_PORT"
                )
            self.nats = embedded_nats(self.settings)
            self.nats_credentials = credentials_dir(self.settings)
            self.nats_url = self.nats.start()

    def env(self) -> dict[str, str]:
        found = {"DAIBAN_DATABASE_URL": self.database_url, "DAIBAN_NATS_URL": self.nats_url}
        if self.nats_credentials is not None:
            found["DAIBAN_NATS_CREDENTIALS"] = str(self.nats_credentials)
        return found

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()


def nats_dir(settings: Settings) -> Path:
    return settings.var_dir.resolve() / "nats"


def credentials_dir(settings: Settings) -> Path:
    return nats_dir(settings) / "secrets" / settings.node_name


def node_auth(settings: Settings) -> tuple[str, dict[str, str]]:
    """The embedded server's `authorization` block (every service of the node, every outside
    system of the registry) and the environment holding the services' passwords."""
    services = list(discover_services())
    passwords = service_credentials(credentials_dir(settings), settings.node_name, services)
    subjects = Subjects(settings.subject_root)
    users = [
        *natsconf.node_users(subjects, settings.org, settings.node_name, services, settings.stream_name),
        *nats_systems.users(subjects, nats_systems.load(nats_dir(settings) / nats_systems.REGISTRY)),
    ]
    return natsconf.authorization(users), server_env(passwords)


def embedded_nats(settings: Settings) -> EmbeddedNats:
    auth, env = node_auth(settings)
    return EmbeddedNats(nats_dir(settings), settings.embedded_nats_port, auth=auth, env=env)
