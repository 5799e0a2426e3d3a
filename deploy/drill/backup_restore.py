"""The backup and restore drill: back a node up, restore it into a fresh one, check it whole.

On a throwaway node of its own (its own DAIBAN_VAR_DIR under --workdir and free ports: never the
demo data of `make run`), it
1. starts a county node (`daiban run`: embedded PostgreSQL and nats-server, migrations, demo seed,
   the four services) and accepts cases at a village point, one of them decided by the township;
2. backs it up as docs/operations.md says: `pg_dump` per schema while it runs, then stops it and
   copies the JetStream store directory and the audit signing key;
3. restores both into a fresh node (another var folder, other ports): a new PostgreSQL, the
   database and the pg_trgm extension, `pg_restore` per schema, the store directory under a new
   nats-server, the node's durable consumers removed, `daiban migrate`, `daiban serve` per service;
4. checks the restored node: every service ready, every case there as it was, the audit hash chain
   and its signed checkpoints verify, and a case accepted after the restore moves as before.

Every command it runs is a shell line, printed as it runs (`$ ...`) with the variables it set
first (`export ...`): docs/operations.md, "Backups and restore", shows the same lines.

    .venv/bin/python -m deploy.drill.backup_restore [--workdir DIR] [--cases N]

tests/integration/test_backup_restore.py runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import nats

from daiban_common.auth import Role, issue_token
from daiban_common.db import ensure_database
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools.demo.people import resident_id
from daiban_devtools.embedded import PG_BIN, EmbeddedNats, EmbeddedPostgres, free_port
from deploy.check import VILLAGE, application, wait_until

ORG = "370285000000"  # Laixi, the demo county `daiban run` seeds
TOWNSHIP = "370285101000"  # 姜山镇, whose window decides ITEM for VILLAGE
ITEM = "JF-00403-001-370285000000-01"  # 临时救助: decided by the township's window
SERVICES = tuple(discover_services())
SCHEMAS = SERVICES  # one schema per service
STREAM = "DAIBAN"
# `daiban run` migrates and seeds before its banner: minutes on a busy machine.
START_TIMEOUT = 480.0


def say(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


SCHEMA_LIST = " ".join(SCHEMAS)
BACKUP_DATABASE = (
    f"for schema in {SCHEMA_LIST}; do\n"
    '  "$PG_BIN/pg_dump" "$DATABASE_URL" --schema=$schema --format=custom --file="$BACKUP/$schema.dump"\n'
    "done"
)
BACKUP_FILES = (
    'cp -a "$DAIBAN_VAR_DIR/nats/jetstream" "$BACKUP/jetstream"\ncp -a "$DAIBAN_VAR_DIR/keys" "$BACKUP/keys"'
)
RESTORE_FILES = (
    'mkdir -p "$NEW_VAR_DIR/nats"\n'
    'cp -a "$BACKUP/jetstream" "$NEW_VAR_DIR/nats/jetstream"\n'
    'cp -a "$BACKUP/keys" "$NEW_VAR_DIR/keys"'
)
RESTORE_DATABASE = (
    '"$PG_BIN/psql" "$NEW_DATABASE_URL" -c \'CREATE EXTENSION IF NOT EXISTS pg_trgm\'\n'
    f"for schema in {SCHEMA_LIST}; do\n"
    '  "$PG_BIN/pg_restore" --dbname="$NEW_DATABASE_URL" --exit-on-error "$BACKUP/$schema.dump"\n'
    "done"
)


def shell(lines: str, variables: dict[str, str], env: dict[str, str] | None = None) -> str:
    """Run shell lines as the docs show them (bash, stopping at the first failure)."""
    for line in lines.splitlines():
        print(f"$ {line}", flush=True)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", lines],
        capture_output=True,
        text=True,
        env={**(env or os.environ), **variables},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"drill failed: exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def export(variables: dict[str, str]) -> None:
    for name, value in variables.items():
        print(f"$ export {name}={shlex.quote(value)}", flush=True)


class Node:
    """Talks to a node's services as a front end does: development tokens of the demo directory."""

    def __init__(self, ports: dict[str, int], var_dir: Path) -> None:
        self.ports = ports
        self.settings = Settings(var_dir=var_dir, org=ORG)

    def client(self, service: str, sub: str, role: Role, org: str, name: str) -> httpx.Client:
        token = issue_token(self.settings, sub=sub, role=role, org=org, name=name)
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.ports[service]}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    def agent(self) -> httpx.Client:
        return self.client("intake", "js-294-agent", Role.agent, VILLAGE, "许春花")

    def auditor(self) -> httpx.Client:
        return self.client("audit", "county-auditor", Role.auditor, ORG, "县审计人员")

    def verify_audit(self) -> dict[str, Any]:
        with self.auditor() as auditor:

            def verified() -> dict[str, Any] | None:
                response = auditor.get("/v1/audit/verify")
                body: dict[str, Any] = response.json() if response.status_code == 200 else {}
                return body if body.get("ok") and body.get("checked", 0) > 0 else None

            return wait_until("the audit log to verify", verified)

    def ready(self) -> None:
        for service in SERVICES:
            url = f"http://127.0.0.1:{self.ports[service]}/readyz"

            def answers(url: str = url) -> bool:
                try:
                    return httpx.get(url, timeout=10).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(f"{service} ready", answers)


def node_env(var_dir: Path, ports: dict[str, int], **more: str) -> dict[str, str]:
    """The environment of one throwaway node: none of the caller's DAIBAN_*, only its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
    env.update(
        {
            "DAIBAN_VAR_DIR": str(var_dir),
            "DAIBAN_ORG": ORG,
            "DAIBAN_EMBEDDED_PG_PORT": str(ports["pg"]),
            "DAIBAN_EMBEDDED_NATS_PORT": str(ports["nats"]),
            "DAIBAN_LOG_LEVEL": "WARNING",
            "DAIBAN_DEMO_HISTORY_CASES": "0",
            **{f"DAIBAN_{s.upper()}_PORT": str(ports[s]) for s in SERVICES},
            # `daiban run` serves the console beside the services; not on the shared default port.
            "DAIBAN_CONSOLE_PORT": str(ports["console"]),
            **more,
        }
    )
    return env


def free_ports() -> dict[str, int]:
    return {name: free_port() for name in (*SERVICES, "pg", "nats", "console")}


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def daiban_run(var_dir: Path, ports: dict[str, int], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The node to back up, as `daiban run` starts it; yields once its banner is printed."""
    command = [sys.executable, "-m", "daiban_common.cli", "run"]
    print(f"$ DAIBAN_VAR_DIR={var_dir} daiban run", flush=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=node_env(var_dir, ports), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(
            "daiban run's banner",
            lambda: proc.poll() is not None or "More:" in log.read_text(errors="replace"),
            START_TIMEOUT,
        )
        if proc.poll() is not None:
            raise SystemExit(f"drill failed: daiban run exited:\n{log.read_text(errors='replace')[-3000:]}")
        yield proc
    finally:
        stop(proc)


def accept(node: Node, serials: range) -> list[str]:
    """Cases at the village point, one per applicant serial; their numbers."""
    numbers = []
    with node.agent() as agent:
        for serial in serials:
            body = application(ITEM, resident_id("370285", date(1944, 3, 15), serial))

            def accepted(body: dict[str, Any] = body) -> str | None:
                key = {"Idempotency-Key": str(uuid.uuid4())}
                response = agent.post("/v1/applications", json=body, headers=key)
                return str(response.json()["case_number"]) if response.status_code == 201 else None

            numbers.append(wait_until("an acceptance", accepted))
    return numbers


def accept_cases(node: Node, count: int) -> dict[str, str]:
    """`count` cases, the first decided by the township; case number -> status."""
    numbers = accept(node, range(100, 100 + count))
    decide_at_township(node, numbers[0])
    return {
        number: case_status(node, number, "ready_for_handover" if n == 0 else "assigned")
        for n, number in enumerate(numbers)
    }


def decide_at_township(node: Node, number: str) -> None:
    with node.client("routing", "township-clerk", Role.clerk, TOWNSHIP, "沈玉兰") as clerk:

        def task() -> str | None:
            route = clerk.get(f"/v1/cases/{number}/route")
            tasks = route.json().get("tasks", []) if route.status_code == 200 else []
            return str(tasks[0]["id"]) if tasks else None

        task_id = wait_until("the township's task", task)
        for step, body in (
            ("claim", None),
            ("decide", {"decision": "approve", "result": "临时救助金 800 元"}),
        ):
            response = clerk.post(f"/v1/tasks/{task_id}/{step}", json=body)
            if response.status_code != 200:
                raise SystemExit(f"drill failed: {step}: {response.status_code} {response.text}")


def case_status(node: Node, number: str, wanted: str | None = None) -> str:
    """The case's status as the accepting point's intake shows it (waiting for `wanted`, if given)."""
    with node.agent() as agent:

        def status() -> str | None:
            response = agent.get(f"/v1/cases/{number}")
            found = str(response.json()["status"]) if response.status_code == 200 else None
            return found if wanted is None or found == wanted else None

        return wait_until(f"case {number} {wanted or 'there'}", status)


def restore_database(variables: dict[str, str], var_dir: Path, port: int) -> EmbeddedPostgres:
    """A new PostgreSQL and the node's database (as a site creates them), then each schema."""
    pg = EmbeddedPostgres(var_dir / "postgres", port)
    asyncio.run(ensure_database(pg.start(), "daiban"))
    shell(RESTORE_DATABASE, variables)
    return pg


async def remove_durable_consumers(url: str, node: str) -> list[str]:
    """The node's durable consumers, recreated from the start of the stream when the services
    start: the store may hold acknowledgements of events the restored database had not applied
    (`nats consumer rm DAIBAN <name>` with the nats CLI)."""
    nc = await nats.connect(url)
    try:
        jsm = nc.jsm()
        removed = [
            c.name for c in await jsm.consumers_info(STREAM) if c.name and c.name.startswith(f"{node}-")
        ]
        for name in removed:
            await jsm.delete_consumer(STREAM, name)
        return removed
    finally:
        await nc.close()


@contextmanager
def served(var_dir: Path, ports: dict[str, int], database_url: str, nats_url: str) -> Iterator[None]:
    """`daiban migrate`, then `daiban serve <service>` per service, as a production node runs."""
    env = node_env(var_dir, ports, DAIBAN_DATABASE_URL=database_url, DAIBAN_NATS_URL=nats_url)
    # This checkout's `daiban` (the interpreter's virtualenv) first on the PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    daiban = [sys.executable, "-m", "daiban_common.cli"]
    shell("daiban migrate", {}, env)
    procs = []
    try:
        for service in SERVICES:
            print(f"$ daiban serve {service} &", flush=True)
            log = (var_dir / f"{service}.log").open("ab")
            procs.append(
                subprocess.Popen([*daiban, "serve", service], env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            log.close()
        yield
    finally:
        for proc in procs:
            stop(proc)


def drill(work: Path, cases: int) -> None:
    began = time.monotonic()
    source_var, target_var, folder = work / "source" / "var", work / "restored" / "var", work / "backup"
    source_ports = free_ports()
    source = Node(source_ports, source_var)

    variables = {
        "PG_BIN": str(PG_BIN),
        "BACKUP": str(folder),
        "DAIBAN_VAR_DIR": str(source_var),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{source_ports['pg']}/daiban",
        "NEW_VAR_DIR": str(target_var),
    }
    say(f"1. a throwaway node under {source_var}")
    source_var.parent.mkdir(parents=True, exist_ok=True)
    with daiban_run(source_var, source_ports, work / "source" / "run.log"):
        before = accept_cases(source, cases)
        say(f"   {len(before)} cases: {before}")
        audit_before = source.verify_audit()
        say(f"   audit log verifies: {audit_before['checked']} entries")
        say(f"2. backup into {folder}: the database while the node runs, then the files with it stopped")
        export(variables)
        folder.mkdir(parents=True)
        shell(BACKUP_DATABASE, variables)
    shell(BACKUP_FILES, variables)

    say(f"3. restore into a fresh node under {target_var}")
    # Picked only now: ports picked minutes before were taken by then once (another test's server).
    target_ports = free_ports()
    variables["NEW_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{target_ports['pg']}/daiban"
    export({"NEW_DATABASE_URL": variables["NEW_DATABASE_URL"]})
    with ExitStack() as stack:
        shell(RESTORE_FILES, variables)
        pg = restore_database(variables, target_var, target_ports["pg"])
        stack.callback(pg.stop)
        server = EmbeddedNats(target_var / "nats", target_ports["nats"])
        nats_url = server.start()
        stack.callback(server.stop)
        removed = asyncio.run(remove_durable_consumers(nats_url, source.settings.node_name))
        say(f"   removed {len(removed)} durable consumers of node {source.settings.node_name}: {removed}")
        database_url = variables["NEW_DATABASE_URL"]
        stack.enter_context(served(target_var, target_ports, database_url, nats_url))

        say("4. check the restored node")
        restored = Node(target_ports, target_var)
        restored.ready()
        after = {number: case_status(restored, number) for number in before}
        if after != before:
            raise SystemExit(f"drill failed: cases before {before}, after the restore {after}")
        say(f"   every case there as it was: {after}")
        audit_after = restored.verify_audit()
        if audit_after["checked"] < audit_before["checked"]:
            raise SystemExit(
                f"drill failed: audit entries {audit_before['checked']} -> {audit_after['checked']}"
            )
        say(
            f"   audit log verifies: {audit_after['checked']} entries, "
            f"{audit_after['checkpoints_checked']} checkpoints"
        )
        # The restored stream and recreated consumers carry a new case to the township's window.
        [number] = accept(restored, range(500, 501))
        case_status(restored, number, "assigned")
        say(f"   a new case after the restore, {number}: assigned")
    say(f"drill passed in {time.monotonic() - began:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workdir", type=Path, help="where the throwaway nodes live (default: a new temp folder)"
    )
    parser.add_argument("--cases", type=int, default=3, help="cases to accept before the backup")
    args = parser.parse_args()
    if args.workdir is not None:
        if args.workdir.exists() and any(args.workdir.iterdir()):
            raise SystemExit(f"{args.workdir} is not empty: the drill runs on a node of its own")
        drill(args.workdir.resolve(), args.cases)
        return 0
    with tempfile.TemporaryDirectory(prefix="daiban-drill-") as tmp:
        drill(Path(tmp), args.cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
