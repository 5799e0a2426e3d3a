"""`daiban dead-letters list|show|replay|discard --service <name>`: the dead-letter API from a shell.

Without `--token` a supervisor's token of the node's org is minted from the node's shared secret
(as `daiban audit verify` does); on a node whose tokens come from an identity provider, pass one.
Exit codes: 0 done, 1 refused (a failed replay, a conflict, a 4xx), 2 the service unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from daiban_common.auth import Role
from daiban_common.cli import command_token, print_problem, service_url
from daiban_common.service import discover_services
from daiban_common.settings import Settings

_FILTERS = ("status", "type", "consumer", "org", "from", "to")


def arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--service", required=True, choices=list(discover_services()))
    common.add_argument("--url", default=None, help="the service's base URL (default: this node's port)")
    common.add_argument("--token", default=None, help="a supervisor's or admin's token (default: minted)")
    commands = parser.add_subparsers(dest="dead_letters_command", required=True)
    listing = commands.add_parser("list", parents=[common], help="dead letters, newest first")
    for name in _FILTERS:
        listing.add_argument(f"--{name}", dest=f"filter_{name}", metavar=name.upper(), default=None)
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--all", action="store_true", help="follow every page")
    show = commands.add_parser("show", parents=[common], help="one dead letter, with its message")
    show.add_argument("id", type=int)
    replay = commands.add_parser("replay", parents=[common], help="apply it again (at most once)")
    replay.add_argument("id", type=int)
    corrected = replay.add_mutually_exclusive_group()
    corrected.add_argument("--data", type=Path, default=None, help="JSON file: corrected `data`")
    corrected.add_argument("--envelope", type=Path, default=None, help="JSON file: a corrected envelope")
    discard = commands.add_parser("discard", parents=[common], help="give it up, saying why (in Chinese)")
    discard.add_argument("id", type=int)
    discard.add_argument("--reason", required=True)


def run(
    args: argparse.Namespace,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    settings = settings or Settings()
    url = args.url or service_url(settings, args.service)
    try:
        token = args.token or command_token(settings, Role.supervisor, sub="cli:dead-letters", name="命令行")
        request = _request(args)
    except (OSError, ValueError) as exc:
        print(f"dead-letters: {exc}", file=sys.stderr)
        return 2

    async def send() -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=url, transport=transport, timeout=30, headers=headers
        ) as client:
            return await _exchange(client, args, *request)

    try:
        return asyncio.run(send())
    except httpx.HTTPError as exc:
        print(f"无法连接 {args.service} 服务（{url}）：{exc}", file=sys.stderr)
        return 2


def _request(args: argparse.Namespace) -> tuple[str, str, Any]:
    """(method, path, JSON body or query parameters) of the subcommand."""
    command = args.dead_letters_command
    if command == "list":
        params = {name: getattr(args, f"filter_{name}") for name in _FILTERS}
        return (
            "GET",
            "/v1/dead-letters",
            {k: v for k, v in params.items() if v is not None} | {"limit": args.limit},
        )
    path = f"/v1/dead-letters/{args.id}"
    if command == "show":
        return "GET", path, None
    if command == "discard":
        return "POST", f"{path}/discard", {"reason": args.reason}
    body: dict[str, Any] = {}
    if args.data is not None:
        body["data"] = json.loads(args.data.read_text(encoding="utf-8"))
    if args.envelope is not None:
        body["envelope"] = json.loads(args.envelope.read_text(encoding="utf-8"))
    return "POST", f"{path}/replay", body


async def _exchange(
    client: httpx.AsyncClient, args: argparse.Namespace, method: str, path: str, given: Any
) -> int:
    if method == "POST":
        response = await client.post(path, json=given, headers={"Idempotency-Key": uuid.uuid4().hex})
        return _answer(response)
    if args.dead_letters_command == "show":
        return _answer(await client.get(path))
    params = dict(given)
    while True:
        response = await client.get(path, params=params)
        if response.status_code != 200:
            return _answer(response)
        page = response.json()
        for item in page["items"]:
            print(_line(item))
        if not (args.all and page["next_cursor"]):
            return 0
        params["cursor"] = page["next_cursor"]


def _line(item: dict[str, Any]) -> str:
    return "\t".join(
        str(value if value is not None else "-")
        for value in (
            item["id"],
            item["status_label"],
            item["parked_at"],
            item["consumer"],
            item["type"],
            item["org"],
            item["event_id"],
            item["reason"].splitlines()[0] if item["reason"] else "",
        )
    )


def _answer(response: httpx.Response) -> int:
    body = response.json()
    if response.status_code == 200:
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    print_problem(response.status_code, body)
    return 1
