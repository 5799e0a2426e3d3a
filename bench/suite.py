"""The suite under test, started as a county's ops team starts it: `daiban run` on embedded servers.

`daiban run` migrates, seeds the demo data and serves the four services with uvicorn (uvloop,
httptools); PostgreSQL keeps its defaults (fsync, synchronous commit) and JetStream syncs every
write. The benchmark only chooses the ports and the var folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import psutil
from nats.aio.client import Client as NATS

from daiban_common import bus
from daiban_common.auth import Role, issue_token
from daiban_common.bus import Credential, credential_for
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.devstack import credentials_dir
from daiban_devtools.embedded import free_port

SERVICES = tuple(discover_services())
COUNTY = "370285000000"


@dataclass
class Suite:
    var_dir: Path
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['pg']}/daiban"

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['pg']}/postgres"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports['nats']}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def settings(self) -> Settings:
        return Settings(var_dir=self.var_dir, database_url=self.database_url, nats_url=self.nats_url)

    def credential(self, service: str) -> Credential | None:
        """The NATS identity `daiban run` made for `service` (or `observer`: read-only)."""
        return credential_for(
            Settings(var_dir=self.var_dir, nats_credentials=credentials_dir(self.settings())), service
        )

    async def nats(self, service: str) -> NATS:
        """A connection to the suite's nats-server as `service`: every connection authenticates."""
        return await bus.connect(
            self.nats_url, name=f"bench-as-{service}", credential=self.credential(service)
        )

    def token(self, role: Role, org: str, sub: str, name: str = "基准测试") -> str:
        return issue_token(self.settings(), sub=sub, role=role, org=org, name=name, ttl_seconds=6 * 3600)

    def start(self, timeout: float = 300.0) -> float:
        """Start `daiban run`; returns the seconds it took to be ready."""
        self.ports = {name: free_port() for name in (*SERVICES, "pg", "nats", "console")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
        env.update(
            {
                "DAIBAN_VAR_DIR": str(self.var_dir),
                "DAIBAN_EMBEDDED_PG_PORT": str(self.ports["pg"]),
                "DAIBAN_EMBEDDED_NATS_PORT": str(self.ports["nats"]),
                **{f"DAIBAN_{name.upper()}_PORT": str(self.ports[name]) for name in SERVICES},
                "DAIBAN_CONSOLE_PORT": str(self.ports["console"]),
            }
        )
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.var_dir / "suite.log"
        log = open(self.log_path, "w")  # noqa: SIM115 - owned by the child
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daiban_common.cli", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        assert self.proc.stdout is not None
        deadline = started + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("More:"):
                # Keep reading the banner pipe in the background so the child never blocks on it.
                threading_drain(self.proc.stdout)
                return time.monotonic() - started
        self.stop()
        raise RuntimeError(f"daiban run did not come up; see {self.log_path}")

    def service_processes(self) -> dict[str, psutil.Process]:
        assert self.proc is not None
        found = {}
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmdline = child.cmdline()
            except psutil.Error:
                continue
            if "serve" in cmdline:
                found[cmdline[cmdline.index("serve") + 1]] = child
        return found

    def postgres_processes(self) -> list[psutil.Process]:
        """The embedded PostgreSQL server and its backends (they come and go with connections)."""
        port = str(self.ports["pg"])
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if proc.info["name"] == "postgres" and "-p" in cmdline and port in cmdline:
                found.append(proc)
                found.extend(proc.children(recursive=True))
        return found

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)

    async def wait_for_replica(self, items: list[str], within: float = 120.0) -> None:
        """Intake accepts only items its catalogue replica holds; the seed reaches it as events."""
        conn = await self.connect()
        try:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                have = await conn.fetchval(
                    "SELECT count(DISTINCT implementation_code) FROM intake.item_versions "
                    "WHERE implementation_code = ANY($1::text[])",
                    items,
                )
                if have == len(set(items)):
                    return
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        raise RuntimeError("intake's catalogue replica did not receive the demo items")


def threading_drain(stream: IO[str]) -> None:
    def drain() -> None:
        for _ in stream:
            pass

    threading.Thread(target=drain, daemon=True).start()
