"""The developer's subcommands of `daiban` (entry points `daiban.commands` of daiban-devtools).

`run` starts the embedded servers, migrates, seeds and serves every service (or two nodes with
`--tiers`); `seed` and `makemigration` work on the embedded servers unless DAIBAN_DATABASE_URL is
set; `demo` drives a live case; `token` mints a development token; `asyncapi` writes the document
of every event; `calendar load` sends a year's official schedule to routing; `systems` keeps
intake's registry of township systems and their HTTP tokens. A node's own commands
(serve, migrate, audit verify) are daiban_common.cli's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.cli import Command, chosen_services, migrate_all
from daiban_common.db import ensure_database
from daiban_common.divisions import DEMO_COUNTY, divisions_dir, read_county
from daiban_common.migrations import make_revision
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_devtools import systems
from daiban_devtools.console import Console
from daiban_devtools.devstack import DevStack
from daiban_devtools.embedded import port_is_open
from daiban_devtools.tiers import (
    DEFAULT_TOWNSHIPS,
    NatsNetwork,
    Node,
    check_townships,
    nats_network,
    plan_tiers,
    tier_tokens,
    tiers_home,
)

DEMO_TOKENS = [
    ("admin", "370285000000", "county-admin", "县中心管理员"),
    ("clerk", "370285000000", "county-clerk", "县中心窗口人员"),
    ("approver", "370285000000", "county-approver", "县级审批人员"),
    ("supervisor", "370285000000", "county-supervisor", "县电子监察"),
    ("auditor", "370285000000", "county-auditor", "县审计人员"),
    ("clerk", "370285101000", "township-clerk", "镇便民服务中心窗口人员"),
    ("agent", "370285101294", "village-agent", "村代办员"),
]


def demo_tokens(settings: Settings) -> list[tuple[str, str, str, str]]:
    """The banner's tokens for the node's county: Laixi's hand-made staff, or, in any other county,
    the same county staff and the generated window clerk and agent of its first township and village
    (daiban_routing.seed.templates names them from the org codes)."""
    county = OrgCode.parse(settings.org).county.value
    if county == DEMO_COUNTY:
        return DEMO_TOKENS
    units = read_county(divisions_dir(settings.divisions_dir), county)
    township = min(u.code for u in units if u.tier is Tier.township)
    village = min(u.code for u in units if u.parent_code == township)
    return [
        *((role, county, sub, name) for role, org, sub, name in DEMO_TOKENS if org == DEMO_COUNTY),
        ("clerk", township, f"t{township[6:9]}-w01-a", "镇便民服务中心窗口人员"),
        ("agent", village, f"v{village[6:12]}-agent", "村代办员"),
    ]


def token_variable(role: str, org: str, sub: str) -> str:
    """The dev-tokens.env name: the walkthrough's $TOWNSHIP_CLERK_TOKEN and $VILLAGE_AGENT_TOKEN in
    every county, $COUNTY_CLERK_TOKEN and the like for the county's staff."""
    tier = OrgCode.parse(org).tier
    if tier is not Tier.county:
        return f"{tier.value.upper()}_{role.upper()}_TOKEN"
    return f"{sub.upper().replace('-', '_')}_TOKEN"


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tiers",
        action="store_true",
        help=(
            "run the county node and township nodes separately, each on its own nats-server and "
            "database (township n's ports: the county's + 10n)"
        ),
    )
    parser.add_argument(
        "--township",
        action="append",
        default=None,
        help=f"a township node's org, once per node (with --tiers; default {', '.join(DEFAULT_TOWNSHIPS)})",
    )
    parser.add_argument(
        "--services",
        type=service_list,
        default=None,
        help="serve only these services, comma-separated (a township node: intake,routing,audit)",
    )


def _run(args: argparse.Namespace) -> int:
    if args.tiers and args.services:
        raise SystemExit("daiban run: --services does not apply with --tiers")
    townships = tuple(args.township or DEFAULT_TOWNSHIPS)
    return run_suite(Settings(), tiers=args.tiers, townships=townships, only=args.services)


def _token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--org", required=True, help="12-digit org unit code")
    parser.add_argument("--sub", default=None, help="subject (staff id); defaults to role@org")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")


def _token(args: argparse.Namespace) -> int:
    sub_id = args.sub or f"{args.role}@{args.org}"
    print(
        issue_token(
            Settings(),
            sub=sub_id,
            role=Role(args.role),
            org=args.org,
            name=args.name or sub_id,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def _seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("services", nargs="*", help="only these services")


def _seed(args: argparse.Namespace) -> int:
    chosen = chosen_services(args.services)
    with servers(Settings()) as settings:
        migrate_all(settings, chosen)
        seed_all(settings, chosen)
    return 0


def _makemigration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service")
    parser.add_argument("-m", "--message", required=True)


def _makemigration(args: argparse.Namespace) -> int:
    spec = discover_services()[args.service]
    with servers(Settings()) as settings:
        make_revision(spec, settings.database_url, args.message)
    return 0


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--village", default="370285101294", help="the village point where the case starts")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for each step")


def _demo(args: argparse.Namespace) -> int:
    from daiban_devtools.demo.live import run_demo

    return asyncio.run(run_demo(Settings(), village=args.village, wait=args.wait))


def _asyncapi_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="docs/asyncapi.yaml", help="file to write, - for stdout")


def _asyncapi(args: argparse.Namespace) -> int:
    from daiban_devtools.asyncapi import write

    write(Path(args.output))
    return 0


def _calendar_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="calendar_command", required=True)
    load = commands.add_parser(
        "load", help="load a year's official schedule (holidays, make-up working days)"
    )
    load.add_argument("year", type=int)
    load.add_argument(
        "file", type=Path, help='JSON: {"holidays": [...], "workdays": [...], "reference": "..."}'
    )
    load.add_argument("--url", default=None, help="routing's base URL (default: this node's routing port)")
    load.add_argument("--token", default=None, help="an admin's bearer token (default: a development one)")


def _calendar(args: argparse.Namespace) -> int:
    from daiban_devtools.schedule import load

    return load(Settings(), args.year, args.file, url=args.url, token=args.token)


def _systems(args: argparse.Namespace) -> int:
    return systems.run(args)


RUN = Command("start the embedded servers, migrate, seed and run every service", _run_arguments, _run)
SEED = Command("migrate and load demo data (idempotent)", _seed_arguments, _seed)
TOKEN = Command("print a bearer token for development", _token_arguments, _token)
DEMO = Command("drive a live scenario against the running suite (after `daiban run`)", _demo_arguments, _demo)
MAKEMIGRATION = Command(
    "autogenerate a migration for one service (developers)", _makemigration_arguments, _makemigration
)
CALENDAR = Command(
    "load a year's official schedule through routing's API (then provisional deadlines move)",
    _calendar_arguments,
    _calendar,
)
SYSTEMS = Command(
    "register township systems and their HTTP tokens in intake (register, list, http-token, disable)",
    systems.arguments,
    _systems,
)
ASYNCAPI = Command(
    "write the AsyncAPI 3.0 document of every event (developers)", _asyncapi_arguments, _asyncapi
)


@contextmanager
def servers(settings: Settings) -> Iterator[Settings]:
    """`settings` with the database and NATS URLs filled in: the configured servers, or embedded ones."""
    stack = DevStack(settings)
    stack.start()
    try:
        yield settings.model_copy(
            update={
                "database_url": stack.database_url,
                "nats_url": stack.nats_url,
                "nats_credentials": stack.nats_credentials,
            }
        )
    finally:
        stack.stop()


def seed_all(settings: Settings, services: Iterable[ServiceSpec]) -> None:
    """Every service's own seed, then the demo county's history (daiban_devtools.demo.history)."""
    from daiban_devtools.demo.history import seed_node

    result = asyncio.run(seed_node(settings, list(services)))
    if result.skipped:
        print(f"demo history: not written ({result.skipped})", flush=True)
        return
    states = ", ".join(f"{status} {n}" for status, n in result.statuses.items())
    print(
        f"demo history: {result.cases} cases, {result.steps} steps, {result.events} events applied "
        f"in {result.seconds:.1f} s ({states})",
        flush=True,
    )
    for failure in result.failed:
        print(f"demo history: step failed: {failure}", file=sys.stderr)


def service_list(raw: str) -> tuple[str, ...]:
    """`--services intake,routing,audit`: known names, each once, in the order given."""
    known = tuple(discover_services())
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        given = ", ".join(unknown) if unknown else "nothing"
        raise argparse.ArgumentTypeError(f"unknown services: {given}; choose from {', '.join(known)}")
    return names


def run_suite(
    settings: Settings,
    *,
    tiers: bool = False,
    townships: Sequence[str] = DEFAULT_TOWNSHIPS,
    only: Sequence[str] | None = None,
) -> int:
    started = time.monotonic()
    network: NatsNetwork | None = None
    if tiers:
        settings = tiers_home(settings)
        if settings.nats_url:
            raise SystemExit("daiban run --tiers starts a nats-server per node: unset DAIBAN_NATS_URL")
        check_townships(settings.org, townships)
        network = nats_network(settings, townships)
    # With --tiers each node has a server of its own (the network's), not the embedded one.
    stack = DevStack(settings, with_nats=network is None)
    stack.start()
    if network is not None:
        network.start()
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        resolved = settings.model_copy(
            update={
                "database_url": stack.database_url,
                "nats_url": stack.nats_url,
                "nats_credentials": stack.nats_credentials,
            }
        )
        services = discover_services()
        if network is not None:
            nodes = plan_tiers(resolved, townships, list(services.values()), network)
        else:
            nodes = [Node("node", resolved, tuple(only or services), stack.env())]
        for node in nodes:
            if node.create_database:
                asyncio.run(ensure_database(node.settings.database_url, node.create_database))
            specs = [services[name] for name in node.services]
            migrate_all(node.settings, specs)
            seed_all(node.settings, specs)
        # The console needs the whole node's API; `--tiers` and `--services` subsets run without it.
        console = Console.of(resolved) if network is None and only is None else None
        if console is not None and port_is_open(console.port):
            raise SystemExit(f"{console.url} is in use (another `make run`?); set DAIBAN_CONSOLE_PORT")
        node_urls: list[dict[str, str]] = []
        for node in nodes:
            env = {**os.environ, **node.env}
            if console is not None:
                env["DAIBAN_CORS_ORIGINS"] = console.cors_origins(resolved)
            for name in node.services:
                children.append(
                    subprocess.Popen([sys.executable, "-m", "daiban_common.cli", "serve", name], env=env)
                )
            host, port = node.settings.host, node.settings.service_port
            node_urls.append({name: f"http://{host}:{port(services[name])}" for name in node.services})
        all_urls = {
            f"{node.label} {name}": url
            for node, urls in zip(nodes, node_urls, strict=True)
            for name, url in urls.items()
        }
        if console is not None:
            console.write_config(resolved, node_urls[0], demo_tokens(resolved))
            children.append(subprocess.Popen(console.command(), env={**os.environ, **nodes[0].env}))
            all_urls["console"] = console.url
        wait_ready(all_urls, children, lambda: stopping)
        if not stopping and network is not None:
            print_tiers_banner(nodes, node_urls, stack, time.monotonic() - started)
        elif not stopping:
            print_banner(settings, node_urls[0], stack, time.monotonic() - started, console)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        if not stopping:
            print(
                "一个服务意外退出，正在停止全部服务 (a service exited; stopping the suite)", file=sys.stderr
            )
            return 1
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
        if network is not None:
            network.stop()
        stack.stop()
        print("daiban stopped.")


READY_TIMEOUT = 300.0


def wait_ready(urls: dict[str, str], children: list[subprocess.Popen[bytes]], stop: object) -> None:
    # Generous: on a busy two-core machine a dozen Python processes take minutes to import.
    deadline = time.monotonic() + READY_TIMEOUT
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        if callable(stop) and stop():
            return
        if any(child.poll() is not None for child in children):
            raise SystemExit("a service failed to start; see the log above")
        for name, url in list(pending.items()):
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    if pending:
        raise SystemExit(f"not ready after {READY_TIMEOUT:.0f} s: {', '.join(pending)}")


def print_banner(
    settings: Settings, urls: dict[str, str], stack: DevStack, seconds: float, console: Console | None = None
) -> None:
    print()
    print(f"daiban is running (node {settings.org}, ready in {seconds:.1f} s)")
    if console is not None:
        print(f"  console    {console.url}/   工作台：窗口、代办员、大厅进度屏、电子监察")
    for name, url in urls.items():
        print(f"  {name:<10} {url}   docs: {url}/docs")
    print(f"  postgres   {stack.database_url}")
    print(f"  nats       {stack.nats_url}")
    print("\nDevelopment tokens (Authorization: Bearer <token>):")
    exports = []
    tokens = demo_tokens(settings)
    for role, org, sub_id, name in tokens:
        token = issue_token(settings, sub=sub_id, role=Role(role), org=org, name=name, ttl_seconds=30 * 86400)
        print(f"  {role:<10} {org}  {token}")
        exports.append(f"{token_variable(role, org, sub_id)}={token}")
    # Scripts and the walkthrough `source` this instead of copying tokens off the screen.
    tokens_file = settings.var_dir / "dev-tokens.env"
    tokens_file.write_text("\n".join(exports) + "\n", encoding="utf-8")
    tokens_file.chmod(0o600)
    print(f"  (also in {tokens_file}: source it for $COUNTY_CLERK_TOKEN, $VILLAGE_AGENT_TOKEN, ...)")
    township = next(org for _, org, _, _ in tokens if OrgCode.parse(org).tier is Tier.township)
    print(f"\nMore: ./daiban token --role clerk --org {township} ; Ctrl-C stops everything.", flush=True)


def print_tiers_banner(
    nodes: list[Node], node_urls: list[dict[str, str]], stack: DevStack, seconds: float
) -> None:
    county, townships = nodes[0], nodes[1:]
    print()
    print(f"daiban is running as {len(nodes)} nodes (ready in {seconds:.1f} s)")
    for node, urls in zip(nodes, node_urls, strict=True):
        if node is county:
            hosts = "the county and every township without a node of its own; hub of the townships' leaves"
        else:
            hosts = "the township and its villages; the catalogue stays at the county"
        print(f"  {node.label} node {node.settings.org} ({node.settings.node_name}): hosts {hosts}")
        for name, url in urls.items():
            print(f"    {name:<10} {url}   docs: {url}/docs")
        print(f"    postgres   {node.settings.database_url}")
        print(f"    nats       {redacted(node.settings.nats_url)}")
    print("\nDevelopment tokens (Authorization: Bearer <token>):")
    county_tokens = [t for t in DEMO_TOKENS if t[1] == county.settings.org]
    for node, tokens in [(county, county_tokens), *((t, tier_tokens(t.settings.org)) for t in townships)]:
        print(f"  {node.label} node:")
        for role, org, sub_id, name in tokens:
            token = issue_token(
                node.settings, sub=sub_id, role=Role(role), org=org, name=name, ttl_seconds=30 * 86400
            )
            print(f"    {role:<10} {org}  {sub_id:<18} {token}")
    print(
        f"\nMore: DAIBAN_VAR_DIR={county.settings.var_dir} ./daiban token --role clerk "
        f"--org {townships[0].settings.org} ; Ctrl-C stops everything.",
        flush=True,
    )


def redacted(url: str) -> str:
    """A URL as printed: without the password it may carry."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.hostname}:{parts.port}"))
