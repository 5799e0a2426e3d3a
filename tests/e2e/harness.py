"""Running the suite as in production for end-to-end tests, and talking to it over HTTP.

`Suite` starts `python -m daiban_common.cli run` (embedded PostgreSQL and nats-server, migrations,
demo seed, one uvicorn process per service) on free ports with a `DAIBAN_VAR_DIR` of its own, waits
for its banner, and stops it with SIGTERM as an operator would. Everything else here is what a
front end would do: mint a bearer token, call the services, poll until events have travelled.

    suite = Suite.start(tmp / "county")                       # the county node, all services
    town = Suite.start(tmp / "town", org="370285101000",      # another node, a subset of services,
                       services=("intake", "routing", "audit"),  # extra DAIBAN_* variables
                       env={"DAIBAN_NODE": "town"})
    agent = suite.client("intake", suite.token("js-294-agent", "agent", "370285101294"))
    body = application("JF-00403-001-370285000000-01", "370285101294", person("王秀英", 1))
    case = created(agent.post("/v1/applications", json=body, headers=idempotent()))
    progress = f"/v1/public/progress/{case['case_number']}?query_code={case['query_code']}"
    eventually(lambda: ok(agent.get(progress))["status"] == "assigned")
    suite.restart(services=("intake", "routing", "audit"))   # e.g. the catalogue down
    suite.stop()

`DAIBAN_DEMO_HISTORY_CASES` is 0 unless `env` says otherwise: months of demo history take minutes.

Nothing here sleeps and hopes: `eventually` polls a predicate until it holds or the (generous)
limit passes, since the machine is small and shared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_contracts.catalogue import Material, MaterialSource
from daiban_devtools.embedded import free_port

SERVICES = tuple(discover_services())
COUNTY = "370285000000"
READY_MARKER = "More:"  # the last line of `daiban run`'s banner
START_TIMEOUT = 480.0
STOP_TIMEOUT = 90.0
# Events cross three processes and a broker on a busy 2-core machine: be patient, never sleep blindly.
PATIENCE = 90.0

T = TypeVar("T")


def free_ports(names: Iterable[str] = (*SERVICES, "pg", "nats", "console")) -> dict[str, int]:
    return {name: free_port() for name in names}


@dataclass
class Suite:
    """One `daiban run`: a node serving `org`, its servers and services on the given ports."""

    var_dir: Path
    ports: dict[str, int]
    org: str = COUNTY
    services: tuple[str, ...] | None = None  # None: every service (`daiban run` without --services)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    banner: str = ""

    @classmethod
    def start(
        cls,
        var_dir: Path,
        *,
        org: str = COUNTY,
        services: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> Suite:
        """Start a node and wait until every service it serves is ready (its banner printed)."""
        suite = cls(
            var_dir=var_dir,
            ports=dict(ports) if ports else free_ports(),
            org=org,
            services=tuple(services) if services else None,
            env=dict(env or {}),
        )
        suite.launch()
        return suite

    # -- process ---------------------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.var_dir.parent / f"{self.var_dir.name}-run.log"

    @property
    def serving(self) -> tuple[str, ...]:
        return self.services or SERVICES

    def process_env(self) -> dict[str, str]:
        """The environment `daiban run` gets: none of the caller's DAIBAN_*, only this node's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAIBAN_")}
        env.update(
            {
                "DAIBAN_VAR_DIR": str(self.var_dir),
                "DAIBAN_ORG": self.org,
                "DAIBAN_EMBEDDED_PG_PORT": str(self.ports["pg"]),
                "DAIBAN_EMBEDDED_NATS_PORT": str(self.ports["nats"]),
                **{f"DAIBAN_{name.upper()}_PORT": str(self.ports[name]) for name in SERVICES},
                # The console `daiban run` serves beside the services; its default port is shared.
                "DAIBAN_CONSOLE_PORT": str(self.ports["console"]),
                # Quiet logs: they go to a file read only when something fails.
                "DAIBAN_LOG_LEVEL": "WARNING",
                # No months of demo history unless asked for (`env=`): it takes minutes to write.
                "DAIBAN_DEMO_HISTORY_CASES": "0",
            }
        )
        env.update(self.env)
        return env

    def launch(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("this suite is already running")
        self.var_dir.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "daiban_common.cli", "run"]
        if self.services is not None:
            command += ["--services", ",".join(self.services)]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # A file, not a pipe: nobody reads a pipe while tests run, and a full pipe blocks the services.
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command, env=self.process_env(), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self._log_since(offset)
            if any(line.startswith(READY_MARKER) for line in text.splitlines()):
                self.banner = text
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self._kill()
        raise AssertionError(f"daiban run did not come up:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, as an operator stops it; it must stop cleanly, taking its servers with it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"daiban run did not stop on SIGTERM:\n{self.log_tail()}") from None
        if proc.returncode != 0:
            raise AssertionError(f"daiban run exited with {proc.returncode}:\n{self.log_tail()}")

    def restart(self, *, services: Sequence[str] | None = None) -> None:
        """Stop, then start again on the same ports and data, serving `services` (None: all)."""
        self.stop()
        self.services = tuple(services) if services else None
        self.launch()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def log_tail(self, lines: int = 80) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self._log_since(0).splitlines()[-lines:])

    # -- talking to it -----------------------------------------------------------------------------

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['pg']}/daiban"

    def settings(self) -> Settings:
        """This node's settings as its services read them (for its development JWT secret)."""
        secret = self.process_env().get("DAIBAN_JWT_SECRET", "")
        return Settings(var_dir=self.var_dir, org=self.org, jwt_secret=secret)

    def token(self, sub: str, role: Role | str, org: str, name: str | None = None) -> str:
        """A bearer token signed with the node's development secret, as `daiban token` mints it."""
        return issue_token(self.settings(), sub=sub, role=Role(role), org=org, name=name or sub)

    def client(self, service: str, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url(service), headers=headers, timeout=60)


# -- HTTP helpers ------------------------------------------------------------------------------------


def idempotent(key: str | None = None) -> dict[str, str]:
    """Headers for a POST that creates something (a fresh Idempotency-Key unless one is given)."""
    return {"Idempotency-Key": key or f"e2e-{uuid.uuid4()}"}


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body of a response that must have `status` (the body is shown when it has not)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"expected {status}: {response.text}"
    )
    return response.json() if response.content else None


def ok(response: httpx.Response) -> Any:
    return expect(response, 200)


def created(response: httpx.Response) -> Any:
    return expect(response, 201)


def eventually(
    check: Callable[[], T | Literal[False] | None], *, within: float = PATIENCE, interval: float = 0.25
) -> T:
    """Poll `check` until it returns something truthy (returned); fail with its last answer.

    An AssertionError raised by `check` counts as "not yet", so a check may assert what it waits for.
    """
    deadline = time.monotonic() + within
    last: object = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = value
        except AssertionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"not so after {within:.0f} s; last: {last!r}")
        time.sleep(interval)


def all_pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list (`{"items": [...], "next_cursor": ...}`)."""
    items: list[dict[str, Any]] = []
    query = {"limit": 100, **params}
    while True:
        page = ok(client.get(path, params=query))
        items.extend(page["items"])
        if not page["next_cursor"]:
            return items
        query["cursor"] = page["next_cursor"]


# -- applications ------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id(serial: int, *, region: str = "370285", born: date = date(1980, 5, 17)) -> str:
    """A resident ID number with a valid GB 11643 check digit; `serial` (0-999) tells people apart."""
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def person(name: str, serial: int, *, phone: str = "13912345678", address: str = "") -> dict[str, Any]:
    return {
        "kind": "person",
        "name": name,
        "id_number": resident_id(serial),
        "phone": phone,
        "address": address or "莱西市",
    }


def demo_materials(code: str) -> list[Material]:
    """The materials of a demo catalogue item as `daiban run` seeds it (in the county its code names)."""
    from daiban_catalogue.seed.catalogue import load_demo_catalogue
    from daiban_common.divisions import county_name, divisions_dir

    county = code.split("-")[3]  # XK-00105-001-<implementing org>-01
    for draft in load_demo_catalogue(county, county_name(divisions_dir(None), county)).drafts:
        if draft.implementation_code == code:
            return list(draft.materials)
    raise KeyError(f"no demo item {code}")


def presented(materials: Iterable[Material], *, leave_out: Iterable[str] = ()) -> list[dict[str, Any]]:
    """What an applicant brings: every required material the citizen must supply, as asked."""
    skip = set(leave_out)
    return [
        {"code": m.code, "form": m.form.value, "copies": m.copies}
        for m in materials
        if m.required and m.source is not MaterialSource.government and m.code not in skip
    ]


def application(
    item: str, org: str, applicant: dict[str, Any], *, channel: str = "agent", **extra: Any
) -> dict[str, Any]:
    """An application for a demo item with complete materials (override with `materials=`)."""
    body: dict[str, Any] = {
        "item_code": item,
        "org": org,
        "channel": channel,
        "applicant": applicant,
        "materials": presented(demo_materials(item)),
    }
    body.update(extra)
    return body


def wait_for_replica(suite: Suite, token: str, org: str, items: Iterable[str]) -> None:
    """Wait until intake's catalogue replica holds `items` (fed by `catalogue.item_published`).

    Asks with a material code no item has: intake answers 422 naming `item` while it does not know
    the item, and another field (`materials[0].code`, or `org` for a tier that may not accept it)
    once it does; nothing is stored either way.
    """
    with suite.client("intake", token) as intake:
        for code in items:

            def known(code: str = code) -> bool:
                probe = application(code, org, person("探测", 1), materials=[])
                probe["materials"] = [{"code": "E2E-PROBE", "form": "original", "copies": 1}]
                response = intake.post("/v1/applications", json=probe, headers=idempotent())
                assert response.status_code == 422, response.text
                fields = {e["field"] for e in response.json().get("errors", [])}
                return bool(fields) and "item_code" not in fields

            eventually(known)
