"""One `daiban` command: a node's own subcommands, plus those daiban-devtools adds by entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from daiban_common.cli import COMMANDS, all_commands, main

DEVELOPER_COMMANDS = {"run", "seed", "token", "demo", "makemigration", "asyncapi", "calendar", "systems"}
# Commands a service adds for its node (installed with it, in the image too).
SERVICE_COMMANDS = {"directory": "daiban_routing.seed.command"}


def test_a_node_has_serve_migrate_audit_and_dead_letters_and_the_developer_tools_add_theirs() -> None:
    assert set(COMMANDS) == {"serve", "migrate", "audit", "dead-letters"}
    commands = all_commands()
    assert set(commands) == set(COMMANDS) | DEVELOPER_COMMANDS | set(SERVICE_COMMANDS)
    assert all(commands[name].run.__module__ == "daiban_devtools.cli" for name in DEVELOPER_COMMANDS)
    assert all(commands[name].run.__module__ == module for name, module in SERVICE_COMMANDS.items())


def test_directory_import_takes_a_county_code_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("DAIBAN_")]:
        monkeypatch.delenv(name)
    with pytest.raises(SystemExit):
        main(["directory", "import", "--county", "420684101"])  # a township, 9 digits
    with pytest.raises(SystemExit):
        main(["directory", "import", "--county", "420684101000"])  # a township, 12 digits
    monkeypatch.setenv("DAIBAN_DATABASE_URL", "postgresql+asyncpg://daiban@127.0.0.1:9/daiban")
    with pytest.raises(SystemExit, match="set DAIBAN_ORG=420684000000"):
        main(["directory", "import", "--county", "420684"])


def test_python_dash_m_finds_the_added_commands_too() -> None:
    # Run as __main__, the module is a second copy of itself; the tests and benchmarks start it so.
    done = subprocess.run(
        [sys.executable, "-m", "daiban_common.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in DEVELOPER_COMMANDS | set(COMMANDS))


def test_migrate_needs_a_database_url_and_starts_no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("DAIBAN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAIBAN_DATABASE_URL", "")
    with pytest.raises(SystemExit, match="DAIBAN_DATABASE_URL is not set"):
        main(["migrate"])
