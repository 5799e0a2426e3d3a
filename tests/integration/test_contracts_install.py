"""daiban-contracts installed alone into an empty virtual environment, as a township system does.

Built from libs/contracts with the uv that `make` uses (offline from uv's cache when it can be),
it must bring pydantic (and what pydantic needs) and nothing else, and import without any of the
platform's libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.distributions import closure

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = ["fastapi", "starlette", "sqlalchemy", "sqlmodel", "asyncpg", "nats", "httpx"]

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


def run(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def install(venv: Path, cwd: Path) -> None:
    python, source = str(venv / "bin" / "python"), str(ROOT / "libs" / "contracts")
    # Rebuilt every time: uv's cache of a local source is keyed on its pyproject, not on its code.
    command = (uv(), "pip", "install", "--python", python, "--reinstall-package", "daiban-contracts", source)
    try:
        run(*command, "--offline", cwd=cwd)
    except AssertionError:
        run(*command, cwd=cwd)  # something was not in uv's cache yet


def test_the_contracts_install_alone_with_pydantic_only(tmp_path: Path) -> None:
    venv = tmp_path / "township"
    run(uv(), "venv", "--python", sys.executable, str(venv), cwd=tmp_path)
    install(venv, tmp_path)

    frozen = run(uv(), "pip", "freeze", "--python", str(venv / "bin" / "python"), cwd=tmp_path)
    installed = {canonicalize_name(line.split("==")[0].split(" @ ")[0]) for line in frozen.splitlines()}
    assert {"daiban-contracts", "pydantic"} <= installed
    assert installed - {"daiban-contracts", "pydantic"} <= closure("pydantic")

    assert run(str(venv / "bin" / "python"), "-c", CHECK, cwd=tmp_path).strip() == "ok"
