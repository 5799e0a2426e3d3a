"""The console beside `daiban run`'s services: its port, its configuration file, its process.

The console is a separate origin (its own port), so the services are told to allow it
(`DAIBAN_CORS_ORIGINS`) as they would a county's own front end on another host; nothing is proxied.
In development its configuration lists the demo people with ready-made tokens, so the login page
offers them (daiban_console.config); the file is private to the user, as dev-tokens.env is.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from daiban_common.auth import Role, issue_token
from daiban_common.settings import Environment, Settings

DEFAULT_PORT = 8000
# A month, as the banner's tokens: a developer's console stays signed in across a working session.
TOKEN_TTL = 30 * 86400


@dataclass(frozen=True)
class Console:
    host: str
    port: int
    config_path: Path

    @classmethod
    def of(cls, settings: Settings) -> Console:
        port = settings.ports.get("console", DEFAULT_PORT + settings.port_offset)
        return cls(settings.host, port, settings.var_dir / "console.json")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cors_origins(self, settings: Settings) -> str:
        """DAIBAN_CORS_ORIGINS for the services: the node's own list and the console."""
        return ",".join(dict.fromkeys([*settings.cors_origins, self.url]))

    def write_config(
        self, settings: Settings, services: dict[str, str], people: list[tuple[str, str, str, str]]
    ) -> None:
        identities = []
        if settings.env is Environment.DEVELOPMENT:
            for role, org, sub, name in people:
                token = issue_token(
                    settings, sub=sub, role=Role(role), org=org, name=name, ttl_seconds=TOKEN_TTL
                )
                identities.append({"role": role, "org": org, "sub": sub, "name": name, "token": token})
        text = json.dumps({"services": services, "identities": identities}, ensure_ascii=False, indent=1)
        # A node on external servers has no var folder yet when its console starts.
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(text, encoding="utf-8")
        self.config_path.chmod(0o600)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "daiban_console",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--config",
            str(self.config_path),
        ]
