"""What the console's pages are told at start: where the services are, and who may sign in how.

A JSON file named by `DAIBAN_CONSOLE_CONFIG` (or `--config`), written by `daiban run` in development
and by the operator in production:

    {"services": {"intake": "https://intake.example.cn", ...},
     "identities": [{"role": "agent", "org": "370285101294", "sub": "village-agent",
                     "name": "村代办员", "token": "eyJ..."}]}

`identities` is the development seam: the demo people a developer picks from on the login page.
A production node leaves it out, and the login page then only takes a token pasted or handed over
by the county's identity provider (docs/console.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVICES = ("intake", "catalogue", "routing", "audit")


@dataclass(frozen=True)
class ConsoleConfig:
    services: dict[str, str]
    identities: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ConsoleConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        services = {name: str(raw["services"][name]).rstrip("/") for name in SERVICES}
        for name, url in services.items():
            if urlsplit(url).scheme not in ("http", "https"):
                raise ValueError(f"{path}: services.{name} is not an http(s) URL: {url!r}")
        identities = [
            {key: str(value) for key, value in entry.items()} for entry in raw.get("identities", [])
        ]
        return cls(services=services, identities=identities)

    def public(self) -> dict[str, Any]:
        return {"services": self.services, "identities": self.identities}

    def origins(self) -> list[str]:
        """The services' origins, the only places the pages may fetch from besides their own."""
        return sorted({f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in self.services.values()})
