"""The `daiban` command of a node: serve one service, migrate, verify the audit log.

These are what a production node runs, with only daiban-common and its services installed.
Other packages add subcommands through the `daiban.commands` entry point group: each entry is a
`Command`, named by the entry. daiban-devtools adds the developer's (`run`, `demo`, `token`, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.migrations import upgrade
from daiban_common.service import ServiceSpec, discover_services
from daiban_common.settings import Settings


@dataclass(frozen=True)
class Command:
    """A subcommand: its help line, its arguments, and what it does (returns the exit code)."""

    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="daiban", description="daiban: 三级代办服务网络")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = all_commands()
    for name, command in commands.items():
        command.arguments(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    return commands[args.command].run(args)


def all_commands() -> dict[str, Command]:
    """The node's commands, then those other installed packages add (never replacing one)."""
    commands = dict(COMMANDS)
    for entry in sorted(entry_points(group="daiban.commands"), key=lambda e: e.name):
        if entry.name in commands:
            raise SystemExit(f"{entry.value} adds `daiban {entry.name}`, which exists already")
        command = entry.load()
        if not isinstance(command, Command):
            raise SystemExit(f"{entry.value} is not a daiban_common.cli.Command")
        commands[entry.name] = command
    return commands


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service")
    parser.add_argument("--port", type=int, default=None)


def _serve(args: argparse.Namespace) -> int:
    return serve_one(Settings(), args.service, args.port)


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("services", nargs="*", help="only these services (a township node: no catalogue)")


def _migrate(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.database_url:
        raise SystemExit(
            "DAIBAN_DATABASE_URL is not set. (On a development machine, `daiban seed` migrates "
            "and seeds on the embedded servers.)"
        )
    migrate_all(settings, chosen_services(args.services))
    return 0


def chosen_services(names: Sequence[str]) -> list[ServiceSpec]:
    """The services named (all of them if none), in their migrate and start order."""
    services = discover_services()
    unknown = set(names) - set(services)
    if unknown:
        raise SystemExit(f"unknown services: {', '.join(sorted(unknown))}")
    return [spec for name, spec in services.items() if name in names or not names]


def migrate_all(settings: Settings, services: Iterable[ServiceSpec]) -> None:
    for spec in services:
        upgrade(spec, settings.database_url)


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


def _dead_letters_arguments(parser: argparse.ArgumentParser) -> None:
    from daiban_common.deadletters import cli

    cli.arguments(parser)


def _dead_letters(args: argparse.Namespace) -> int:
    from daiban_common.deadletters import cli

    return cli.run(args)


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="audit_command", required=True)
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


def _audit(args: argparse.Namespace) -> int:
    return audit_verify(Settings(), args)


def print_problem(status: int, problem: Any) -> None:
    """A problem+json answer on stderr: its detail, then each field at fault."""
    print(f"{status} {problem.get('detail', '')}", file=sys.stderr)
    for error in problem.get("errors", []):
        print(f"  {error['field']}: {error['message']}", file=sys.stderr)


def service_url(settings: Settings, service: str) -> str:
    """A service of this node, on this host: where a node's command finds its API by default."""
    return f"http://{settings.host}:{settings.service_port(discover_services()[service])}"


def command_token(settings: Settings, role: Role, *, sub: str, name: str) -> str:
    """A short-lived token of the node's org for a node's command, minted from the shared secret
    (a node whose tokens come from an identity provider passes one instead: ValueError here)."""
    return issue_token(settings, sub=sub, role=role, org=settings.org, name=name, ttl_seconds=600)


def audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """`daiban audit verify`: exit 0 if the log is intact, 1 if tampering was found, 2 on errors."""
    url = args.url or service_url(settings, "audit")
    token = args.token or command_token(settings, Role.auditor, sub="cli:audit-verify", name="命令行核验")

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


COMMANDS: dict[str, Command] = {
    "serve": Command("serve one service with uvicorn", _serve_arguments, _serve),
    "migrate": Command(
        "migrate every service's schema (DAIBAN_DATABASE_URL must be reachable)", _migrate_arguments, _migrate
    ),
    "audit": Command("audit log tools", _audit_arguments, _audit),
    "dead-letters": Command(
        "events a service's consumers parked: list, show, replay, discard (through its API)",
        _dead_letters_arguments,
        _dead_letters,
    ),
}


if __name__ == "__main__":
    # `python -m daiban_common.cli` runs this file as __main__, a second copy of the module: the
    # commands other packages add are Commands of daiban_common.cli, so run that module's main.
    from daiban_common.cli import main as module_main

    raise SystemExit(module_main())
