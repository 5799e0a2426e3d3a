"""The backup and restore drill (deploy/drill/backup_restore.py) passes: a node's PostgreSQL dump
and JetStream store, restored into a fresh node, give back every case as it was, an audit chain
that verifies, and a node that carries new cases. It runs as an operator runs it, a process of its
own on a throwaway node (its own var folder and ports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_backup_restore_drill_passes(tmp_path: Path) -> None:
    work = tmp_path / "drill"
    done = subprocess.run(
        [sys.executable, "-m", "deploy.drill.backup_restore", "--workdir", str(work), "--cases", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "drill passed" in done.stdout, output[-6000:]
    # What docs/operations.md tells an operator to run, the drill ran.
    for command in ("pg_dump", "pg_restore", "CREATE EXTENSION IF NOT EXISTS pg_trgm", "daiban migrate"):
        assert command in done.stdout, command
    assert "every case there as it was" in done.stdout
    # The restored node's data is its own: the source's var folder was never written by it.
    assert (work / "restored" / "var" / "nats" / "jetstream").is_dir()


def test_the_operations_guide_shows_the_commands_the_drill_runs() -> None:
    from deploy.drill.backup_restore import BACKUP_DATABASE, BACKUP_FILES, RESTORE_DATABASE, RESTORE_FILES

    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    # Restore steps are indented under their list item; the commands themselves are the drill's.
    flat = "\n".join(line.strip() for line in guide.splitlines())
    for block in (BACKUP_DATABASE, BACKUP_FILES, RESTORE_FILES, RESTORE_DATABASE):
        assert "\n".join(line.strip() for line in block.splitlines()) in flat, block
