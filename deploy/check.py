"""`make deploy-check`: build the images, run the county node of deploy/compose/county.yaml and the
township node of deploy/compose/township.yaml in containers with podman, walk a case across them,
stop everything.

Each node is started from its compose file itself (its services, commands, env files, volumes,
health checks and start order are read from it), by a small runner rather than a compose tool:
on these machines podman runs with host networking only (../shared/recipes/containers.md), so the
one thing changed is the addresses: every container listens on a free loopback port of its own and
the URLs name 127.0.0.1 instead of the compose service names (and the NATS configurations are
rendered by deploy/compose/nats/render.py with those ports: the hub's leaf port is a free one, and
the township's leaf connects to it on 127.0.0.1). Start order is the file's: a
`service_healthy` dependency is waited for with `podman healthcheck run`, a
`service_completed_successfully` one with `podman wait`.

The journey (docs/walkthrough.md, 3-8, across the tiers): a village agent of 姜山镇 accepts a case
at the township node, it goes up to the county node, the county window's A post claims and
approves it there, it comes back down to the township node and the agent hands it over; both
nodes' audit logs then verify. Where Debian's chromium is installed, each service's `/docs` is then
rendered headless with every host but 127.0.0.1 unresolvable (an intranet with no way out) and
saved as a screenshot (build/container/docs-<service>.png). The county is Laixi with its demo
staffing (`daiban directory import --demo-staff`) and the demo catalogue, loaded by a one-off
container of the image (the image has no `daiban seed`, and the catalogue's API cannot create
departments); the township node is 姜山镇 (370285101000), with the same directory import.

    .venv/bin/python -m deploy.check [--no-build]

Not run in CI (minutes, and root with podman); CI validates the compose files
(tests/unit/test_compose.py).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from daiban_catalogue.seed.catalogue import load_demo_catalogue
from daiban_common.auth import Role, issue_token
from daiban_common.settings import Settings
from daiban_devtools.embedded import free_port
from daiban_devtools.natsconf import leaf_user
from daiban_devtools.natsusers import OBSERVER
from deploy.compose.nats.render import county_conf, service_password_variable, township_conf

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "deploy" / "compose"
PREFIX = "daiban-check"
SERVICES = ("intake", "catalogue", "routing", "audit")
TOWNSHIP_SERVICES = ("intake", "routing", "audit")
COUNTY, TOWNSHIP, VILLAGE = "370285000000", "370285101000", "370285101294"
ITEM = "JF-00405-001-370285000000-01"  # 高龄津贴: promised, decided by the county's civil affairs window
PATIENCE = 180.0
T = TypeVar("T")


def log(message: str) -> None:
    print(f"[deploy-check {time.strftime('%H:%M:%S')}] {message}", flush=True)


def podman(*args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])}...: {done.stderr.strip()[-2000:]}")
    if not quiet and done.stderr.strip() and "systemd" not in done.stderr:
        print(done.stderr.strip(), file=sys.stderr)
    return done


# -- the compose file, as this machine can run it ----------------------------------------------------

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$`, through nested values."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        found = env.get(name)
        if op and op.endswith("?") and not found:
            raise SystemExit(f"compose: {name} is required: {arg}")
        if op and op.endswith("-") and not found:
            return arg or ""
        return found or ""

    return _VARIABLE.sub(one, value)


def start_order(services: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise SystemExit(f"compose: a dependency cycle through {name}")
        for needed in services[name].get("depends_on", {}):
            visit(needed, (*path, name))
        order.append(name)

    for name in services:
        visit(name, ())
    return order


def on_loopback(value: str) -> str:
    """`postgres:5432` and `nats:4222` in the URLs become 127.0.0.1: host networking has no names."""
    return re.sub(r"(@|//)(postgres|nats):", r"\g<1>127.0.0.1:", value)


def run_arguments(
    container: str, service: dict[str, Any], env_files: dict[str, Path], volume: str, binds: dict[str, Path]
) -> list[str]:
    args = ["run", "--detach", "--name", container, "--network", "host"]
    for env_file in service.get("env_file", []):
        args += ["--env-file", str(env_files[env_file])]
    for key, value in service.get("environment", {}).items():
        args += ["--env", f"{key}={on_loopback(str(value))}"]
    for mount in service.get("volumes", []):
        source, target, *mode = mount.split(":")
        # A bind mount of the compose directory (or the check's own rendering of it), or a named
        # volume (kept apart per check run).
        if source in binds:
            source = str(binds[source])
        elif source.startswith("."):
            source = str((COMPOSE / source).resolve())
        else:
            source = f"{volume}-{source}"
        args += ["--volume", ":".join([source, target, *mode])]
    if service.get("read_only"):
        args.append("--read-only")
    for path in service.get("tmpfs", []):
        args += ["--tmpfs", path]
    for capability in service.get("cap_drop", []):
        args += ["--cap-drop", capability]
    for option in service.get("security_opt", []):
        args += ["--security-opt", option]
    if "shm_size" in service:
        args += ["--shm-size", str(service["shm_size"])]
    check = service.get("healthcheck", {})
    if check.get("disable"):
        args.append("--no-healthcheck")
    elif "test" in check:
        test = check["test"]
        # podman 4 takes a string only, run by the container's shell.
        command = test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
        args += ["--health-cmd", command]
    return [*args, service["image"], *service.get("command", [])]


def wait_until(what: str, probe: Callable[[], T | None], within: float = PATIENCE) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise RuntimeError(f"timed out waiting for {what}")


def healthy(container: str) -> bool:
    return podman("healthcheck", "run", container, check=False, quiet=True).returncode == 0


def completed(container: str) -> None:
    code = podman("wait", container).stdout.strip()
    if code != "0":
        logs = podman("logs", container, check=False).stderr[-3000:]
        raise RuntimeError(f"{container} exited with {code}:\n{logs}")


@dataclass(frozen=True)
class NodeFiles:
    """One compose node as the check runs it: its file, env files (name -> the keys written into
    it from the check's environment), its bind mounts rendered for the check, and its services."""

    label: str
    compose: str
    env_files: dict[str, tuple[str, ...]]
    binds: dict[str, Path]
    services: tuple[str, ...]


@contextmanager
def compose_node(node: NodeFiles, workdir: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A node of a compose file running; yields its services' base URLs."""
    compose = interpolate(yaml.safe_load((COMPOSE / node.compose).read_text(encoding="utf-8")), env)
    services: dict[str, dict[str, Any]] = compose["services"]
    # Production onboarding imports units only; the journey needs people, so the demo staffing.
    services["directory"]["command"] = [*services["directory"]["command"], "--demo-staff"]
    env_files = {name: workdir / f"{node.label}-{name}" for name in node.env_files}
    for name, keys in node.env_files.items():
        env_files[name].write_text("".join(f"{k}={env[k]}\n" for k in keys), encoding="utf-8")
        env_files[name].chmod(0o600)
    volume = f"{PREFIX}-{env['DAIBAN_NODE']}"

    def container(name: str) -> str:
        return f"{PREFIX}-{node.label}-{name}"

    started: list[str] = []
    try:
        for name in start_order(services):
            for needed, rule in services[name].get("depends_on", {}).items():
                if rule["condition"] == "service_healthy":
                    wait_until(f"{node.label} {needed} healthy", partial(healthy, container(needed)))
                else:
                    completed(container(needed))
            command = " ".join(services[name].get("command", [])) or services[name]["image"]
            log(f"{node.label}: start {name}: {command}")
            podman(*run_arguments(container(name), services[name], env_files, volume, node.binds))
            started.append(name)
        for name in node.services:
            wait_until(f"{node.label} {name} healthy", partial(healthy, container(name)))
        yield {s: f"http://127.0.0.1:{env[f'DAIBAN_{s.upper()}_PORT']}" for s in node.services}
    finally:
        for name in reversed(started):
            if os.environ.get("DAIBAN_CHECK_LOGS"):
                print(podman("logs", container(name), check=False, quiet=True).stderr[-2000:])
            podman("rm", "--force", "--volumes", "--time", "20", container(name), check=False, quiet=True)
        for declared in compose.get("volumes", {}):
            podman("volume", "rm", "--force", f"{volume}-{declared}", check=False, quiet=True)
        log(f"{node.label}: stopped and removed {len(started)} containers and their volumes")


def nats_password_variables(services: tuple[str, ...]) -> tuple[str, ...]:
    """Where a node's services' and observer's NATS passwords are (nats/render.py names them)."""
    return tuple(service_password_variable(s) for s in (*services, OBSERVER))


def node_files(
    workdir: Path, leaf_port: int, county_node: str, township_node: str
) -> tuple[NodeFiles, NodeFiles]:
    """The county node (Laixi, with 姜山镇 as its child node) and 姜山镇's node, their NATS
    configurations rendered for the check's leaf port and node names."""
    county_text = county_conf(COUNTY, [TOWNSHIP], leaf_port, node=county_node)
    (workdir / "county.conf").write_text(county_text, encoding="utf-8")
    (workdir / "township.conf").write_text(township_conf(TOWNSHIP, node=township_node), encoding="utf-8")
    shared = ("DAIBAN_COUNTY", "DAIBAN_NODE", "DAIBAN_ENV", "DAIBAN_LOG_LEVEL")
    county = NodeFiles(
        "county",
        "county.yaml",
        {
            "county.env": (
                *shared,
                "DAIBAN_ORG",
                "DAIBAN_CHILD_NODES",
                *(f"DAIBAN_{s.upper()}_PORT" for s in SERVICES),
            ),
            "secrets.env": ("POSTGRES_PASSWORD", "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"),
            "nats-secrets.env": (
                *nats_password_variables(SERVICES),
                f"DAIBAN_NATS_PASSWORD_{leaf_user(TOWNSHIP).upper()}",
            ),
        },
        {"./nats/county.conf": workdir / "county.conf"},
        SERVICES,
    )
    township = NodeFiles(
        "township",
        "township.yaml",
        {
            "township.env": (
                *shared,
                "DAIBAN_ORG",
                "DAIBAN_HUB_ADDRESS",
                "DAIBAN_LEAF_USER",
                *(f"DAIBAN_{s.upper()}_PORT" for s in TOWNSHIP_SERVICES),
            ),
            "township-secrets.env": ("POSTGRES_PASSWORD", "DAIBAN_JWT_SECRET", "DAIBAN_PII_SALT"),
            "township-nats-secrets.env": ("NATS_LEAF_PASSWORD", *nats_password_variables(TOWNSHIP_SERVICES)),
        },
        {"./nats/township.conf": workdir / "township.conf"},
        TOWNSHIP_SERVICES,
    )
    return county, township


# The catalogue's demo data (departments and items of daiban_catalogue.seed, in the image), loaded
# by a one-off container of the image: a production node has no API to create the departments its
# items name, and the image has no `daiban seed` (developer tooling).
LOAD_DEMO_CATALOGUE = """
import asyncio
from daiban_catalogue.seed import seed_demo_catalogue
from daiban_catalogue.service import SERVICE
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings

async def main():
    runtime = ServiceRuntime(SERVICE, Settings())
    try:
        await seed_demo_catalogue(runtime)
    finally:
        await runtime.engine.dispose()

asyncio.run(main())
"""


def load_demo_catalogue_in_image(workdir: Path, env: dict[str, str]) -> None:
    compose = interpolate(yaml.safe_load((COMPOSE / "county.yaml").read_text(encoding="utf-8")), env)
    catalogue = compose["services"]["catalogue"]
    args = ["run", "--rm", "--network", "host", "--no-healthcheck"]
    for env_file in catalogue["env_file"]:
        args += ["--env-file", str(workdir / f"county-{env_file}")]
    for key, value in catalogue["environment"].items():
        args += ["--env", f"{key}={on_loopback(str(value))}"]
    podman(*args, "--entrypoint", "python", catalogue["image"], "-c", LOAD_DEMO_CATALOGUE)


# -- the journey -----------------------------------------------------------------------------------


def application(item: str, id_number: str) -> dict[str, Any]:
    """A village agent's application for a demo item of Laixi, with every material the citizen brings."""
    [draft] = [d for d in load_demo_catalogue().drafts if d.implementation_code == item]
    materials = [
        {"code": m.code, "form": m.form.value, "copies": m.copies}
        for m in draft.materials
        if m.required and m.source.value != "government"
    ]
    applicant = {
        "kind": "person",
        "name": "王秀英",
        "id_number": id_number,
        "phone": "13953200101",
        "address": "莱西市姜山镇姜山社区",
    }
    return {
        "item_code": item,
        "org": VILLAGE,
        "channel": "agent",
        "applicant": applicant,
        "materials": materials,
    }


def journey(county_urls: dict[str, str], township_urls: dict[str, str], settings: Settings) -> str:
    def token(sub: str, role: Role, org: str, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, sub=sub, role=role, org=org, name=name)}"}

    def key() -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())}

    agent = token("js-294-agent", Role.agent, VILLAGE, "许春花")
    clerk = token("county-clerk", Role.clerk, COUNTY, "赵敏")
    auditors = {
        "county": token("county-auditor", Role.auditor, COUNTY, "县审计人员"),
        "township": token("township-auditor", Role.auditor, TOWNSHIP, "镇审计人员"),
    }
    # The village is the township node's: the agent, the progress and the handover are there;
    # the county's window decides at the county node.
    http = {name: httpx.Client(base_url=url, timeout=30) for name, url in county_urls.items()}
    town = {name: httpx.Client(base_url=url, timeout=30) for name, url in township_urls.items()}

    def expect(response: httpx.Response, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        return response.json()

    body = application(ITEM, "370285194403150027")

    def accept() -> dict[str, Any] | None:
        # 422 on `item_code` until the township intake's replica has the county's item (a copy
        # across the leaf link), 403 until it knows the agent.
        response = town["intake"].post("/v1/applications", json=body, headers=agent | key())
        return expect(response, 201) if response.status_code == 201 else None

    accepted = wait_until("the village agent's acceptance at the township node", accept)
    number, code = accepted["case_number"], accepted["query_code"]
    log(f"accepted at {VILLAGE} (township node): case {number}, promised {accepted['promised_date']}")

    def progress_is(status: str) -> dict[str, Any] | None:
        found: dict[str, Any] = expect(
            town["intake"].get(f"/v1/public/progress/{number}", params={"query_code": code}), 200
        )
        return found if found["status"] == status else None

    assigned = wait_until("assigned at the county node", lambda: progress_is("assigned"))
    assert assigned["holding_org"] == COUNTY, assigned
    route = expect(http["routing"].get(f"/v1/cases/{number}/route", headers=clerk), 200)
    task = route["tasks"][0]["id"]
    log(f"up to the county node: task {task} for {route['tasks'][0]['staff_id']}")
    expect(http["routing"].post(f"/v1/tasks/{task}/claim", headers=clerk), 200)
    decided = expect(
        http["routing"].post(
            f"/v1/tasks/{task}/decide",
            json={"decision": "approve", "result": "自次月起按月发放高龄津贴"},
            headers=clerk,
        ),
        200,
    )
    log(f"decided at the county: {decided['status']} ({decided.get('outcome')})")
    ready = wait_until("back at the village on the township node", lambda: progress_is("ready_for_handover"))
    assert ready["holding_org"] == VILLAGE, ready
    handover = {
        "method": "in_person",
        "recipient_name": "王秀英",
        "recipient_id_number": "370285194403150027",
    }
    expect(
        town["intake"].post(f"/v1/cases/{number}/handover", json=handover, headers=agent | key()), 200, 201
    )
    wait_until("handed over", lambda: progress_is("handed_over"))
    log("handed over at the village (township node)")

    def verified(client: httpx.Client, auditor: dict[str, str]) -> dict[str, Any] | None:
        result: dict[str, Any] = expect(client.get("/v1/audit/verify", headers=auditor), 200)
        return result if result["ok"] and result["checked"] > 0 else None

    for label, audit_client in (("county", http["audit"]), ("township", town["audit"])):
        audit = wait_until(
            f"the {label} node's audit log to verify", partial(verified, audit_client, auditors[label])
        )
        checked, checkpoints = audit["checked"], audit["checkpoints_checked"]
        log(f"{label} node's audit log verifies: {checked} entries, {checkpoints} checkpoints")
    for client in (*http.values(), *town.values()):
        client.close()
    return str(number)


def screenshot_docs(urls: dict[str, str], folder: Path) -> None:
    """Each service's Swagger UI as a browser on a closed intranet renders it: nothing but loopback
    resolves. A page that waited on a CDN would come out blank (a few kB of white)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        log("docs: no chromium (apt-get install -y chromium), no screenshots")
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name, url in urls.items():
        png = folder / f"docs-{name}.png"
        png.unlink(missing_ok=True)
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--virtual-time-budget=15000",
                "--window-size=1280,1000",
                f"--screenshot={png}",
                f"{url}/docs",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        size = png.stat().st_size if png.exists() else 0
        if size < 40_000:
            raise RuntimeError(f"docs of {name}: the screenshot {png} is blank or missing ({size} bytes)")
        log(f"docs of {name} rendered offline: {png} ({size // 1000} kB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="use the images built before")
    args = parser.parse_args()
    if shutil.which("podman") is None or shutil.which("buildah") is None:
        raise SystemExit("needs podman and buildah: apt-get install -y podman buildah runc debootstrap")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="daiban-deploy-check-") as tmp:
        workdir = Path(tmp)
        if "CONTAINERS_CONF" not in os.environ:
            # runc, cgroupfs and no default ulimits: what podman needs on these machines.
            conf = workdir / "containers.conf"
            conf.write_text('[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n')
            os.environ["CONTAINERS_CONF"] = str(conf)
        if not args.no_build:
            subprocess.run([ROOT / "deploy" / "container" / "base.sh"], check=True)
            subprocess.run(
                [ROOT / "deploy" / "container" / "build.sh"],
                env={**os.environ, "SERVER_IMAGES": "1"},
                check=True,
            )
        built = time.monotonic()
        leaf_port = free_port()
        leaf_password = f"pw{secrets.token_hex(16)}"
        shared = {
            "DAIBAN_COUNTY": COUNTY[:6],
            "DAIBAN_ENV": "production",
            "DAIBAN_LOG_LEVEL": "WARNING",
            # Letters and digits only, starting with a letter: nats-server reads them unquoted.
            f"DAIBAN_NATS_PASSWORD_{leaf_user(TOWNSHIP).upper()}": leaf_password,
            "NATS_LEAF_PASSWORD": leaf_password,
            "DAIBAN_JWT_SECRET": secrets.token_urlsafe(36),
            "DAIBAN_PII_SALT": secrets.token_urlsafe(18),
        }

        def node_env(org: str, services: tuple[str, ...], **more: str) -> dict[str, str]:
            return {
                **shared,
                "DAIBAN_ORG": org,
                "DAIBAN_NODE": f"check{uuid.uuid4().hex[:6]}",
                "POSTGRES_PASSWORD": secrets.token_urlsafe(18),
                "POSTGRES_PORT": str(free_port()),
                "NATS_PORT": str(free_port()),
                "NATS_MONITOR_PORT": str(free_port()),
                # Each node's own: a township's services are not the county's users. Letters and
                # digits only, starting with a letter: nats-server reads them unquoted.
                **{v: f"pw{secrets.token_hex(16)}" for v in nats_password_variables(services)},
                **{f"DAIBAN_{s.upper()}_PORT": str(free_port()) for s in services},
                **more,
            }

        county_env = node_env(COUNTY, SERVICES, DAIBAN_CHILD_NODES=TOWNSHIP)
        township_env = node_env(
            TOWNSHIP,
            TOWNSHIP_SERVICES,
            DAIBAN_HUB_ADDRESS=f"127.0.0.1:{leaf_port}",
            DAIBAN_LEAF_USER=leaf_user(TOWNSHIP),
        )
        settings = Settings(
            env="production",
            org=COUNTY,
            jwt_secret=shared["DAIBAN_JWT_SECRET"],
            pii_salt=shared["DAIBAN_PII_SALT"],
        )
        county_files, township_files = node_files(
            workdir, leaf_port, county_env["DAIBAN_NODE"], township_env["DAIBAN_NODE"]
        )
        with compose_node(county_files, workdir, county_env) as county_urls:
            county_up = time.monotonic()
            log(f"county node up in containers in {county_up - built:.0f} s: {county_urls}")
            load_demo_catalogue_in_image(workdir, county_env)
            log("catalogue: the demo catalogue loaded by a one-off container of the image")
            with compose_node(township_files, workdir, township_env) as township_urls:
                up = time.monotonic()
                log(f"township node up in containers in {up - county_up:.0f} s: {township_urls}")
                number = journey(county_urls, township_urls, settings)
                walked = time.monotonic()
                screenshot_docs(county_urls, ROOT / "build" / "container")
        # Inside the folder: podman reads the containers.conf written there.
        size = int(
            podman("image", "inspect", "--format", "{{.Size}}", "localhost/daiban:0.1.0").stdout.strip()
        )
    log(
        f"passed: case {number} accepted at the township node, decided at the county node and handed "
        f"over, in containers. Image localhost/daiban:0.1.0 {size / 1e6:.0f} MB; "
        f"build {built - began:.0f} s, "
        f"county node start {county_up - built:.0f} s, township node start {up - county_up:.0f} s, "
        f"journey {walked - up:.0f} s, total {time.monotonic() - began:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
