"""`daiban systems register|list|http-token|disable`: intake's registry of outside systems, over its API.

These manage a system's entry and its HTTP token. `daiban systems issue|revoke` manage its NATS
credential on the node's server (daiban_devtools.nats_systems_cli); disabling a system here also
makes intake refuse what it pushes over NATS. Without `--token` a development admin token of the
node's org is minted (as `daiban token` does); against a real node, pass an administrator's token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.cli import print_problem
from daiban_common.service import discover_services
from daiban_common.settings import Settings
from daiban_devtools import nats_systems_cli


def intake_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.service_port(discover_services()['intake'])}"


def arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=None, help="intake's base URL (default: this node's intake port)")
    common.add_argument("--token", default=None, help="an admin's bearer token (default: a development one)")
    commands = parser.add_subparsers(dest="systems_command", required=True)
    register = commands.add_parser(
        "register", parents=[common], help="register a township's system; prints its HTTP token once"
    )
    register.add_argument("system", help="the system's id, e.g. jiangshan-hall")
    register.add_argument("--township", required=True, help="12-digit township code")
    register.add_argument("--name", required=True, help="中文名称")
    register.add_argument(
        "--type", action="append", dest="types", help="an allowed event type (default: all)"
    )
    commands.add_parser("list", parents=[common], help="the systems of the admin's subtree")
    token = commands.add_parser(
        "http-token", parents=[common], help="issue a new HTTP token; the old one stops working"
    )
    token.add_argument("system")
    disable = commands.add_parser(
        "disable", parents=[common], help="revoke the system: its token and its NATS events are refused"
    )
    disable.add_argument("system")
    nats_systems_cli.add_commands(commands)


def request_of(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, body) of the subcommand."""
    if args.systems_command == "register":
        body: dict[str, Any] = {"system": args.system, "township": args.township, "name": args.name}
        if args.types:
            body["types"] = args.types
        return "POST", "/v1/systems", body
    if args.systems_command == "list":
        return "GET", "/v1/systems", None
    if args.systems_command == "http-token":
        return "POST", f"/v1/systems/{args.system}/token", None
    return "DELETE", f"/v1/systems/{args.system}", None


def run(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None = None) -> int:
    if args.systems_command in nats_systems_cli.COMMANDS:
        return nats_systems_cli.run(args)
    settings = Settings()
    bearer = args.token or issue_token(
        settings, sub=f"admin@{settings.org}", role=Role.admin, org=settings.org, name="daiban systems"
    )
    method, path, body = request_of(args)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=args.url or intake_url(settings), transport=transport, timeout=30
        ) as client:
            return await client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {bearer}"}
            )

    try:
        response = asyncio.run(send())
    except httpx.HTTPError as exc:
        print(f"intake is not reachable: {exc}", file=sys.stderr)
        return 1
    answer = response.json()
    if response.status_code >= 400:
        print_problem(response.status_code, answer)
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    if "token" in answer:
        print("这是该系统的HTTP令牌，只显示这一次，请妥善交给系统管理方", file=sys.stderr)
    return 0
