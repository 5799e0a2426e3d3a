"""Sampling profiles of the running services with py-spy, summarised where the CPU time goes.

`record(pid, seconds)` runs py-spy (a dev dependency) against a service process while a
measurement runs; `summarise(raw)` reads its collapsed stacks and answers two questions: which
library the CPU was in (the leaf frame's package) and which of our own functions it was under.
Samples of an idle event loop or a sleeping thread are left out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

IDLE_LEAVES = ("Runner.run", "run_forever", "Condition.wait", "select", "_worker", "wait (threading.py")
OWN = ("daiban_common", "daiban_intake", "daiban_routing", "daiban_audit", "daiban_catalogue")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found if Path(found).exists() else None


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    binary = py_spy()
    if binary is None:
        return None
    return subprocess.Popen(
        [binary, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100", "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _path(frame: str) -> str:
    """`func (sqlalchemy/orm/session.py:12)` -> `sqlalchemy/orm/session.py` (py-spy shortens paths)."""
    return frame.rsplit("(", 1)[1].split(":")[0] if "(" in frame else ""


def _package(frame: str) -> str:
    """The library a frame is in (`sqlalchemy`), or `daiban_x.module` for our own code."""
    parts = Path(_path(frame)).parts
    if not parts:
        return "?"
    if parts[0] in OWN:
        return ".".join(p.removesuffix(".py") for p in parts[:2])
    if len(parts) == 1:
        return "stdlib " + parts[0].removesuffix(".py") if parts[0].startswith("<") is False else parts[0]
    return parts[0]


def _function(frame: str) -> str:
    name, _, where = frame.partition(" (")
    module = Path(where.split(":")[0]).stem if where else ""
    return f"{module}.{name}" if module else name


def summarise(raw: Path, top: int = 12) -> dict[str, Any]:
    """Shares of busy samples: by the leaf's package, and under each of our own functions."""
    by_package: Counter[str] = Counter()
    under_own: Counter[str] = Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or any(frames[-1].startswith(idle) for idle in IDLE_LEAVES):
            continue
        n = int(count)
        busy += n
        by_package[_package(frames[-1])] += n
        seen = set()
        for frame in frames:
            if Path(_path(frame)).parts[:1] and Path(_path(frame)).parts[0] in OWN:
                name = _function(frame)
                if name not in seen:
                    seen.add(name)
                    under_own[name] += n
    if not busy:
        return {"busy_samples": 0}
    return {
        "busy_samples": busy,
        "leaf_package_share": {k: round(v / busy, 3) for k, v in by_package.most_common(top)},
        "own_function_share": {k: round(v / busy, 3) for k, v in under_own.most_common(top)},
    }


class Profiler:
    """Profiles taken during a run, by label; a no-op when profiling is off or py-spy is missing."""

    def __init__(self, out_dir: Path | None, pids: dict[str, int]) -> None:
        self.out_dir = out_dir
        self.pids = pids
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}

    @property
    def on(self) -> bool:
        return self.out_dir is not None and py_spy() is not None

    def start(self, label: str, service: str, seconds: float) -> None:
        if self.out_dir is None or service not in self.pids:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        out = self.out_dir / f"{label}.raw"
        proc = start(self.pids[service], seconds, out)
        if proc is not None:
            self.running[label] = (proc, out)

    def finish(self) -> dict[str, Any]:
        found = {}
        for label, (proc, out) in self.running.items():
            proc.wait()
            if out.exists():
                found[label] = summarise(out)
        self.running = {}
        return found
