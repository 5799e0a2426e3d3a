"""The `daiban` command: run the suite, mint dev tokens, migrate, seed, serve one service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.db import ensure_database
from daiban_common.devstack import DevStack
from daiban_common.migrations import make_revision, upgrade
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings
from daiban_common.tiers import DEFAULT_TOWNSHIP, Node, plan_tiers, tier_tokens, tiers_home

DEMO_TOKENS = [
    ("admin", "370285000000", "county-admin", "县中心管理员"),
    ("clerk", "370285000000", "county-clerk", "县中心窗口人员"),
    ("approver", "370285000000", "county-approver", "县级审批人员"),
    ("supervisor", "370285000000", "county-supervisor", "县电子监察"),
    ("auditor", "370285000000", "county-auditor", "县审计人员"),
    ("clerk", "370285101000", "township-clerk", "镇便民服务中心窗口人员"),
    ("agent", "370285101294", "village-agent", "村代办员"),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="daiban", description="daiban: 三级代办服务网络")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the embedded servers, migrate, seed and run every service")
    run.add_argument(
        "--tiers",
        action="store_true",
        help="run the county node and one township node separately (township ports: county's + 10)",
    )
    run.add_argument("--township", default=DEFAULT_TOWNSHIP, help="the township node's org (with --tiers)")
    run.add_argument(
        "--services",
        type=service_list,
        default=None,
        help="serve only these services, comma-separated (a township node: intake,routing,audit)",
    )
    token = sub.add_parser("token", help="print a bearer token for development")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--org", required=True, help="12-digit org unit code")
    token.add_argument("--sub", default=None, help="subject (staff id); defaults to role@org")
    token.add_argument("--name", default="", help="display name")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    migrate = sub.add_parser("migrate", help="migrate every service's schema (servers must be reachable)")
    migrate.add_argument("services", nargs="*", help="only these services (a township node: no catalogue)")
    seed = sub.add_parser("seed", help="load demo data (idempotent)")
    seed.add_argument("services", nargs="*", help="only these services")
    serve = sub.add_parser("serve", help="serve one service with uvicorn")
    serve.add_argument("service")
    serve.add_argument("--port", type=int, default=None)
    rev = sub.add_parser("makemigration", help="autogenerate a migration for one service (developers)")
    rev.add_argument("service")
    rev.add_argument("-m", "--message", required=True)
    add_audit_commands(sub)
    demo = sub.add_parser("demo", help="drive a live scenario against the running suite (after `daiban run`)")
    demo.add_argument("--village", default="370285101294", help="the village point where the case starts")
    demo.add_argument("--wait", type=float, default=60.0, help="seconds to wait for each step")
    spec = sub.add_parser("asyncapi", help="write the AsyncAPI 3.0 document of every event (developers)")
    spec.add_argument("-o", "--output", default="docs/asyncapi.yaml", help="file to write, - for stdout")
    args = parser.parse_args(argv)
    if args.command == "asyncapi":
        from daiban_common.asyncapi import write

        write(Path(args.output))
        return 0
    settings = Settings()
    if args.command == "audit":
        return audit_verify(settings, args)
    if args.command == "token":
        sub_id = args.sub or f"{args.role}@{args.org}"
        print(
            issue_token(
                settings,
                sub=sub_id,
                role=Role(args.role),
                org=args.org,
                name=args.name or sub_id,
                ttl_seconds=args.ttl,
            )
        )
        return 0
    if args.command == "serve":
        return serve_one(settings, args.service, args.port)
    if args.command == "demo":
        from daiban_common.demo.live import run_demo

        return asyncio.run(run_demo(settings, village=args.village, wait=args.wait))
    if args.command == "run":
        if args.tiers and args.services:
            parser.error("--services does not apply with --tiers")
        return run_suite(settings, tiers=args.tiers, township=args.township, only=args.services)
    with_stack(settings, args)
    return 0


def add_audit_commands(sub: Any) -> None:
    audit = sub.add_parser("audit", help="audit log tools")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = commands.add_parser(
        "verify", help="verify this node's audit log: its hash chain, and the checkpoints its parent holds"
    )
    verify.add_argument(
        "--url", default=None, help="this node's audit service (default: host and audit port)"
    )
    verify.add_argument("--from-seq", type=int, default=1)
    verify.add_argument("--to-seq", type=int, default=None)
    verify.add_argument(
        "--parent-url", default=None, help="the parent node's audit service, to check against its checkpoints"
    )
    verify.add_argument("--token", default=None, help="auditor token (default: minted for this node's org)")
    verify.add_argument("--parent-token", default=None, help="token for the parent (default: --token)")


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """`daiban audit verify`: exit 0 if the log is intact, 1 if tampering was found, 2 on errors."""
    url = args.url or f"http://{settings.host}:{settings.service_port(discover_services()['audit'])}"
    token = args.token or issue_token(
        settings,
        sub="cli:audit-verify",
        role=Role.auditor,
        org=settings.org,
        name="命令行核验",
        ttl_seconds=600,
    )

    async def run() -> tuple[int, dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            node = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=60))
            parent = None
            if args.parent_url:
                parent = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=args.parent_url, timeout=60)
                )
            return await verify_audit_log(
                node,
                parent,
                node_org=settings.org,
                token=token,
                parent_token=args.parent_token or token,
                from_seq=args.from_seq,
                to_seq=args.to_seq,
            )

    try:
        code, result = asyncio.run(run())
    except httpx.HTTPError as exc:
        print(f"无法连接审计服务：{exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return code


async def verify_audit_log(
    node: httpx.AsyncClient,
    parent: httpx.AsyncClient | None,
    *,
    node_org: str,
    token: str,
    parent_token: str,
    from_seq: int = 1,
    to_seq: int | None = None,
) -> tuple[int, dict[str, Any]]:
    """Ask the node to verify its log; with a parent, against the checkpoints the parent holds.

    The parent's copies are what make the check worth having: whoever controls the node's
    database can change the node's own checkpoints along with its entries, not the parent's.
    """
    headers = {"Authorization": f"Bearer {token}"}
    span: dict[str, Any] = {"from_seq": from_seq} | ({"to_seq": to_seq} if to_seq is not None else {})
    if parent is None:
        response = await node.get("/v1/audit/verify", params=span, headers=headers)
    else:
        held: list[dict[str, Any]] = []
        params: dict[str, Any] = {"node": node_org, "limit": 100}
        while True:
            page = await parent.get(
                "/v1/audit/checkpoints", params=params, headers={"Authorization": f"Bearer {parent_token}"}
            )
            if page.status_code != 200:
                return 2, page.json()
            body = page.json()
            held.extend(body["items"])
            if not body["next_cursor"]:
                break
            params["cursor"] = body["next_cursor"]
        response = await node.post("/v1/audit/verify", json={**span, "checkpoints": held}, headers=headers)
    result: dict[str, Any] = response.json()
    if response.status_code != 200:
        return 2, result
    return (0 if result["ok"] else 1), result


def with_stack(settings: Settings, args: argparse.Namespace) -> None:
    stack = DevStack(settings)
    stack.start()
    try:
        resolved = settings.model_copy(
            update={"database_url": stack.database_url, "nats_url": stack.nats_url}
        )
        services = discover_services()
        if args.command in ("migrate", "seed"):
            unknown = set(args.services) - set(services)
            if unknown:
                raise SystemExit(f"unknown services: {', '.join(sorted(unknown))}")
            chosen = [spec for name, spec in services.items() if name in args.services or not args.services]
            migrate_all(resolved, chosen)
            if args.command == "seed":
                seed_all(resolved, chosen)
        if args.command == "makemigration":
            make_revision(services[args.service], resolved.database_url, args.message)
    finally:
        stack.stop()


def migrate_all(settings: Settings, services: Iterable[ServiceSpec]) -> None:
    for spec in services:
        upgrade(spec, settings.database_url)


def seed_all(settings: Settings, services: Iterable[ServiceSpec]) -> None:
    """Every service's own seed, then the demo county's history (daiban_common.demo.history)."""
    from daiban_common.demo.history import seed_node

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


def serve_one(settings: Settings, name: str, port: int | None) -> int:
    import uvicorn

    from daiban_common.app import create_app
    from daiban_common.httpserver import uvicorn_options
    from daiban_common.jsonlog import configure_logging

    spec = discover_services()[name]
    configure_logging(name, settings.log_level)
    app = create_app(spec, settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=port or settings.service_port(spec),
        **uvicorn_options(settings),
    )
    return 0


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
    township: str = DEFAULT_TOWNSHIP,
    only: Sequence[str] | None = None,
) -> int:
    started = time.monotonic()
    if tiers:
        settings = tiers_home(settings)
    stack = DevStack(settings)
    stack.start()
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        resolved = settings.model_copy(
            update={"database_url": stack.database_url, "nats_url": stack.nats_url}
        )
        services = discover_services()
        if tiers:
            nodes = plan_tiers(resolved, township, list(services.values()))
        else:
            nodes = [Node("node", resolved, tuple(only or services), stack.env())]
        for node in nodes:
            if node.create_database:
                asyncio.run(ensure_database(node.settings.database_url, node.create_database))
            specs = [services[name] for name in node.services]
            migrate_all(node.settings, specs)
            seed_all(node.settings, specs)
        node_urls: list[dict[str, str]] = []
        for node in nodes:
            env = {**os.environ, **node.env}
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
        wait_ready(all_urls, children, lambda: stopping)
        if not stopping and tiers:
            print_tiers_banner(nodes, node_urls, stack, time.monotonic() - started)
        elif not stopping:
            print_banner(settings, node_urls[0], stack, time.monotonic() - started)
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
        stack.stop()
        print("daiban stopped.")


def wait_ready(urls: dict[str, str], children: list[subprocess.Popen[bytes]], stop: object) -> None:
    deadline = time.monotonic() + 120
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
        raise SystemExit(f"not ready after 120 s: {', '.join(pending)}")


def print_banner(settings: Settings, urls: dict[str, str], stack: DevStack, seconds: float) -> None:
    print()
    print(f"daiban is running (node {settings.org}, ready in {seconds:.1f} s)")
    for name, url in urls.items():
        print(f"  {name:<10} {url}   docs: {url}/docs")
    print(f"  postgres   {stack.database_url}")
    print(f"  nats       {stack.nats_url}")
    print("\nDevelopment tokens (Authorization: Bearer <token>):")
    exports = []
    for role, org, sub_id, name in DEMO_TOKENS:
        token = issue_token(settings, sub=sub_id, role=Role(role), org=org, name=name, ttl_seconds=30 * 86400)
        print(f"  {role:<10} {org}  {token}")
        exports.append(f"{sub_id.upper().replace('-', '_')}_TOKEN={token}")
    # Scripts and the walkthrough `source` this instead of copying tokens off the screen.
    tokens_file = settings.var_dir / "dev-tokens.env"
    tokens_file.write_text("\n".join(exports) + "\n", encoding="utf-8")
    tokens_file.chmod(0o600)
    print(f"  (also in {tokens_file}: source it for $COUNTY_CLERK_TOKEN, $VILLAGE_AGENT_TOKEN, ...)")
    print(
        "\nMore: uv run daiban token --role clerk --org 370285101000 ; Ctrl-C stops everything.", flush=True
    )


def print_tiers_banner(
    nodes: list[Node], node_urls: list[dict[str, str]], stack: DevStack, seconds: float
) -> None:
    county, township = nodes
    town = township.settings.org
    print()
    print(f"daiban is running as two nodes (ready in {seconds:.1f} s)")
    hosted = {
        "county": f"the county and every township but {town}",
        "township": "the township and its villages; the catalogue stays at the county",
    }
    for node, urls in zip(nodes, node_urls, strict=True):
        print(
            f"  {node.label} node {node.settings.org} ({node.settings.node_name}): hosts {hosted[node.label]}"
        )
        for name, url in urls.items():
            print(f"    {name:<10} {url}   docs: {url}/docs")
        print(f"    postgres   {node.settings.database_url}")
    print(f"  nats       {stack.nats_url}")
    print("\nDevelopment tokens (Authorization: Bearer <token>):")
    county_tokens = [t for t in DEMO_TOKENS if t[1] == county.settings.org]
    for node, tokens in ((county, county_tokens), (township, tier_tokens(town))):
        print(f"  {node.label} node:")
        for role, org, sub_id, name in tokens:
            token = issue_token(
                node.settings, sub=sub_id, role=Role(role), org=org, name=name, ttl_seconds=30 * 86400
            )
            print(f"    {role:<10} {org}  {sub_id:<18} {token}")
    print(
        f"\nMore: DAIBAN_VAR_DIR={county.settings.var_dir} uv run daiban token --role clerk --org {town} ; "
        "Ctrl-C stops everything.",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
