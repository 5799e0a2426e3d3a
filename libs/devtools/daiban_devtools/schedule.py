"""`daiban calendar load <year> <file.json>`: load a year's official schedule through routing's API.

The file is the body of `PUT /v1/calendar/years/{year}`: `{"holidays": [...], "workdays": [...],
"reference": "国办发明电〔…〕…号"}`. Without `--token` a development admin token of the node's org
is minted (as `daiban token` does); against a real node, pass an administrator's token.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from daiban_common.auth import Role, issue_token
from daiban_common.cli import print_problem
from daiban_common.service import discover_services
from daiban_common.settings import Settings


async def put_schedule(client: httpx.AsyncClient, token: str, year: int, schedule: Any) -> httpx.Response:
    return await client.put(
        f"/v1/calendar/years/{year}", json=schedule, headers={"Authorization": f"Bearer {token}"}
    )


def routing_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.service_port(discover_services()['routing'])}"


def load(
    settings: Settings,
    year: int,
    path: Path,
    *,
    url: str | None = None,
    token: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Send the file; print the year as loaded (and the cases moved), or each field at fault."""
    try:
        schedule = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    bearer = token or issue_token(
        settings, sub=f"admin@{settings.org}", role=Role.admin, org=settings.org, name="calendar load"
    )

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=url or routing_url(settings), transport=transport, timeout=30
        ) as c:
            return await put_schedule(c, bearer, year, schedule)

    try:
        response = asyncio.run(send())
    except httpx.HTTPError as exc:
        print(f"routing is not reachable: {exc}", file=sys.stderr)
        return 1
    body = response.json()
    if response.status_code != 200:
        print_problem(response.status_code, body)
        return 1
    state = "loaded" if body["changed"] else "unchanged (already loaded)"
    print(f"{year}: {state}, {len(body['holidays'])} days off, {len(body['workdays'])} make-up working days")
    for number in body["recomputed_cases"]:
        print(f"  deadline recomputed: {number}")
    return 0
