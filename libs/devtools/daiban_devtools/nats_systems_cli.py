"""`daiban systems issue|revoke`: an outside system's NATS credential on this node's server.

Subcommands of `daiban systems` (daiban_devtools.systems, whose other subcommands keep intake's
registry of the system and its HTTP token).
"""

from __future__ import annotations

import argparse
import sys

from daiban_common.settings import Settings
from daiban_contracts.ingress import InvalidSystemId
from daiban_contracts.orgcodes import InvalidOrgCode
from daiban_contracts.subjects import Subjects
from daiban_devtools import nats_systems
from daiban_devtools.credentials import write_secret
from daiban_devtools.devstack import embedded_nats, nats_dir
from daiban_devtools.embedded import AUTH_FILE

COMMANDS = ("issue", "revoke")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    issue = commands.add_parser("issue", help="issue (or renew) a system's NATS credential; prints it once")
    issue.add_argument("--township", required=True, help="the township's 12-digit org code")
    issue.add_argument("--system", required=True, help="the system's id, e.g. jiangshan-hall")
    revoke = commands.add_parser("revoke", help="revoke a system's NATS credential")
    revoke.add_argument("--system", required=True)


def apply_registry(settings: Settings) -> str:
    """Rewrite the embedded server's users from the registry and have it reload them."""
    server = embedded_nats(settings)
    write_secret(server.data_dir / AUTH_FILE, server.auth)
    if nats_systems.reload_server(server.pid_file):
        return "nats-server reloaded its users"
    return "no nats-server runs for this node; it takes the users at its next start"


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    registry = nats_dir(settings) / nats_systems.REGISTRY
    try:
        if args.systems_command == "revoke":
            if not nats_systems.revoke(registry, args.system):
                print(f"外部系统{args.system}没有NATS凭据", file=sys.stderr)
                return 1
            print(f"{args.system}: revoked; {apply_registry(settings)}")
            return 0
        entry = nats_systems.issue(registry, args.township, args.system)
    except (InvalidSystemId, InvalidOrgCode, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    url = settings.nats_url or f"nats://127.0.0.1:{settings.embedded_nats_port}"
    text = nats_systems.credential_text(entry, url)
    path = nats_dir(settings) / "systems" / f"{entry.system}.json"
    write_secret(path, text + "\n")
    print(text)
    print(f"(written to {path}, mode 0600; it is not shown again)")
    print(f"publishes to: {Subjects(settings.subject_root).ingress_within(entry.township, entry.system)}")
    print(apply_registry(settings))
    return 0
