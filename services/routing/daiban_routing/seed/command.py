"""`daiban directory import --county <code>`: a county's townships and villages into its node.

A node's command, not a developer's: it ships with routing (entry point `daiban.commands`), so an
ops team onboards its county on the node itself, after `daiban migrate`, with the node's
DAIBAN_ORG and DAIBAN_DATABASE_URL. Units come from the national division data
(`daiban_common.divisions`); `--demo-staff` adds the generated demo staffing (names marked 演示)
for a trial, otherwise the county imports its departments, windows and staff by CSV
(docs/operations.md). Routing publishes the units (and staff) from its outbox when it runs, so the
other services learn them as they learn any directory change.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from daiban_common.cli import Command
from daiban_common.divisions import county_name, divisions_dir
from daiban_common.runtime import ServiceRuntime
from daiban_common.settings import Settings
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode, Tier


def county_code(raw: str) -> str:
    """`420684` or `420684000000` -> `420684000000`; anything else is refused."""
    text = raw.strip()
    try:
        code = OrgCode.parse(text + "000000" if len(text) == 6 else text)
    except InvalidOrgCode as exc:
        raise argparse.ArgumentTypeError(f"{raw}: {exc}") from exc
    if code.tier is not Tier.county:
        raise argparse.ArgumentTypeError(f"{raw}不是县级区划代码（6位，如420684）")
    return code.value


def _arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="directory_command", required=True)
    load = commands.add_parser(
        "import", help="load a county's townships and villages from the national division data"
    )
    load.add_argument("--county", required=True, type=county_code, help="6-digit county code, e.g. 420684")
    load.add_argument(
        "--demo-staff",
        action="store_true",
        help="also generate demo departments, windows and staff (names marked 演示)",
    )
    load.add_argument(
        "--divisions", type=Path, default=None, help="division data folder (default: DAIBAN_DIVISIONS_DIR)"
    )


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.database_url:
        raise SystemExit(
            "DAIBAN_DATABASE_URL is not set. (On a development machine, "
            f"`DAIBAN_ORG={args.county} make run` loads the county by itself.)"
        )
    served = OrgCode.parse(settings.org).county.value
    if served != args.county:
        raise SystemExit(
            f"this node serves {served} (DAIBAN_ORG={settings.org}); set DAIBAN_ORG={args.county}"
        )
    folder = divisions_dir(args.divisions or settings.divisions_dir)
    changed = asyncio.run(import_county(settings, folder, args.county, staffing=args.demo_staff))
    print(f"{county_name(folder, args.county)} ({args.county}): {changed} org units added or changed")
    return 0


async def import_county(settings: Settings, folder: Path, county: str, *, staffing: bool) -> int:
    from daiban_routing.seed import seed_directory
    from daiban_routing.service import SERVICE

    runtime = ServiceRuntime(SERVICE, settings)
    try:
        return await seed_directory(runtime.uow(), folder, county, staffing=staffing)
    finally:
        await runtime.engine.dispose()
        runtime.tracer_provider.shutdown()


DIRECTORY = Command("the directory: import a county's org units (any county of China)", _arguments, _run)
