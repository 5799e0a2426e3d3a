"""`make fuzz`: schemathesis against every service of a throwaway node (see fuzz/README.md).

    python -m fuzz                                # every service, 50 examples per operation
    python -m fuzz --services routing --max-examples 20 --seed 1
    python -m fuzz --var-dir /tmp/f --keep        # keep the node's data and reports afterwards

Starts `daiban run` (embedded PostgreSQL and nats-server, the demo directory and catalogue, no
demo history) on free ports in a fresh temporary folder, so it never touches `var/` or the default
ports; runs `schemathesis run` on each service's `/openapi.json` with every check and every phase
(examples, coverage, fuzzing, stateful), authenticated per operation with development tokens of
the roles that may call it; prints a summary per service and the duration; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fuzz.roles import AUTH, DEFAULT_AUTH, SEMANTIC_422, Caller
from tests.e2e.harness import SERVICES, Suite

ROOT = Path(__file__).resolve().parent.parent
PHASES = "examples,coverage,fuzzing,stateful"
# One service's run must end: a hung run is a failure, not a wait.
SERVICE_TIMEOUT = 1800.0
# What schema-valid data may get: schemathesis' defaults and 413 (any body over 1 MiB) ...
VALID_STATUSES = '["2XX", "3XX", 401, 403, 404, 409, 413, 429]'
# ... and on an operation with rules no schema states (fuzz/roles.py), a 422 naming the field.
SEMANTIC_STATUSES = '["2XX", "3XX", 401, 403, 404, 409, 413, 422, 429]'


@dataclass
class Outcome:
    service: str
    operations: int = 0
    test_cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stateful: str = ""
    exit_code: int = 0

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and not self.failures and not self.errors


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated services")
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation")
    parser.add_argument("--phases", default=PHASES, help=f"schemathesis phases (default {PHASES})")
    parser.add_argument("--seed", type=int, default=None, help="random seed, to replay a run")
    parser.add_argument("--workers", default="1", help="schemathesis workers per service")
    parser.add_argument("--var-dir", type=Path, default=None, help="the node's folder (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the node's folder and reports")
    return parser.parse_args()


def tokens(suite: Suite, callers: dict[str, Caller]) -> dict[str, str]:
    return {
        name: suite.token(caller.staff_id or f"fuzz-{name}", caller.role, caller.org, name=f"模糊测试{name}")
        for name, caller in callers.items()
    }


def config(service: str, suite: Suite, paths: list[str]) -> str:
    """A schemathesis.toml for one service: per path, the caller's token and the 422s it may see.

    One block per path of the document, since schemathesis applies the first block that matches.
    """
    auth = AUTH.get(service, DEFAULT_AUTH)
    minted = tokens(suite, auth.callers)
    lines = [
        f'headers = {{ Authorization = "Bearer {minted[auth.default]}" }}',
        # A body over the 1 MiB limit is refused with 413, which schemathesis does not count as a
        # refusal of invalid data (an array longer than its maxItems is also over the limit).
        "[checks.negative_data_rejection]",
        "expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]",
        # ... and a schema-valid body may be over it too (many checkpoints of long strings).
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {VALID_STATUSES}",
        "[phases.stateful]",
        "max-steps = 20",
        # Development tokens are HS256 with the node's throwaway secret: nothing to hide.
        "[output.sanitization]",
        "enabled = false",
    ]
    for path in paths:
        caller = next((name for pattern, name in auth.overrides if re.search(pattern, path)), auth.default)
        semantic = any(re.search(pattern, path) for pattern in SEMANTIC_422.get(service, ()))
        if caller == auth.default and not semantic:
            continue
        lines += [
            "[[operations]]",
            f"include-path = {json.dumps(path)}",
            f'headers = {{ Authorization = "Bearer {minted[caller]}" }}',
        ]
        if semantic:
            lines.append(f"checks.positive_data_acceptance.expected-statuses = {SEMANTIC_STATUSES}")
    return "\n".join(lines) + "\n"


def run_service(service: str, suite: Suite, args: argparse.Namespace, work: Path) -> Outcome:
    folder = work / service
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "schemathesis.toml"
    document = httpx.get(f"{suite.url(service)}/openapi.json", timeout=30).json()
    config_file.write_text(config(service, suite, list(document["paths"])), encoding="utf-8")
    report = folder / "report.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_file),
        "--no-color",
        "run",
        f"{suite.url(service)}/openapi.json",
        "--checks",
        "all",
        "--phases",
        args.phases,
        "--max-examples",
        str(args.max_examples),
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--request-timeout",
        "30",
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    log = folder / "schemathesis.log"
    started = time.monotonic()
    with log.open("wb") as out:
        # In the service's folder: schemathesis keeps a cache in its working directory.
        proc = subprocess.run(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=SERVICE_TIMEOUT,
            check=False,
            cwd=folder,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.hooks", "PYTHONPATH": str(ROOT)},
        )
    outcome = Outcome(service, seconds=time.monotonic() - started, exit_code=proc.returncode)
    summarise(outcome, report)
    if not outcome.clean:
        print(failures_of(log.read_text(encoding="utf-8", errors="replace")), flush=True)
        print(f"fuzz: {service}: the whole report is {log}", flush=True)
    return outcome


def failures_of(text: str, width: int = 300) -> str:
    """The failures section of schemathesis' output, each line cut to `width` (bodies can be MiBs)."""
    start = text.find("= FAILURES =")
    end = text.find("= WARNINGS =", start) if start >= 0 else -1
    if end < 0:
        end = text.find("= SUMMARY =", start)
    section = text[start:end] if start >= 0 else text[-4000:]
    return "\n".join(line if len(line) <= width else line[:width] + " ..." for line in section.splitlines())


def summarise(outcome: Outcome, report: Path) -> None:
    """Counts and one line per kind of failure, from schemathesis' JSON report."""
    if not report.exists():
        outcome.errors.append("schemathesis wrote no report")
        return
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    outcome.operations = int(data.get("operations", {}).get("tested", 0))
    outcome.test_cases = int(data.get("test_cases", {}).get("generated", 0))
    outcome.stateful = str(data.get("phases", {}).get("stateful", {}).get("status", "?"))
    for failure in data.get("failures", []):
        for operation in failure.get("operations", []):
            outcome.failures.append(f"{failure.get('code')} {failure.get('title')}: {operation}")
    for error in data.get("errors", []):
        outcome.errors.append(json.dumps(error, ensure_ascii=False)[:300])
    if not data.get("complete", False):
        outcome.errors.append(f"run incomplete: {data.get('stop_reason')}")


def print_summary(outcomes: list[Outcome], total: float) -> None:
    print()
    print(
        f"{'service':<10} {'operations':>10} {'cases':>7} {'stateful':>9} {'failures':>9} "
        f"{'errors':>7} {'seconds':>8}"
    )
    for o in outcomes:
        print(
            f"{o.service:<10} {o.operations:>10} {o.test_cases:>7} {o.stateful:>9} {len(o.failures):>9} "
            f"{len(o.errors):>7} {o.seconds:>8.0f}"
        )
    for o in outcomes:
        for line in o.failures + o.errors:
            print(f"  {o.service}: {line}")
    failed = sum(len(o.failures) + len(o.errors) for o in outcomes)
    print(f"fuzz: {failed} failures in {total:.0f} s" + ("" if failed else " — clean"))


def main() -> int:
    args = options()
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    unknown = set(services) - set(SERVICES)
    if unknown:
        raise SystemExit(f"unknown services: {sorted(unknown)}")
    started = time.monotonic()
    work = args.var_dir or Path(tempfile.mkdtemp(prefix="daiban-fuzz-"))
    env = {
        # The fuzzer is one client sending thousands of requests: the public endpoints' per-client
        # limit would answer most of them 429 and hide what is behind it.
        "DAIBAN_PUBLIC_RATE_LIMIT": os.environ.get("DAIBAN_PUBLIC_RATE_LIMIT", "1000000"),
    }
    print(f"fuzz: starting a throwaway node in {work}", flush=True)
    suite = Suite.start(work / "node", env=env)
    outcomes: list[Outcome] = []
    try:
        print(f"fuzz: node ready after {time.monotonic() - started:.0f} s", flush=True)
        for service in services:
            print(f"fuzz: {service} ...", flush=True)
            outcome = run_service(service, suite, args, work / "reports")
            outcomes.append(outcome)
            print(
                f"fuzz: {service}: {len(outcome.failures)} failures, {len(outcome.errors)} errors "
                f"in {outcome.seconds:.0f} s",
                flush=True,
            )
    finally:
        suite.stop()
    clean = len(outcomes) == len(services) and all(o.clean for o in outcomes)
    print_summary(outcomes, time.monotonic() - started)
    if clean and not args.keep and args.var_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        # The reports (and the node's log) are what one reads after a failure.
        print(f"fuzz: reports kept in {work}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
