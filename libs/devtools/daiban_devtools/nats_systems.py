"""Outside systems' NATS credentials on a node's server: a registry, the users it renders, reload.

`daiban systems issue --township 370285101000 --system jiangshan-hall` adds the system to the
node's registry (var/nats/systems.json, mode 0600), rewrites the server's users and has the running
server reload them; `revoke` takes it out the same way. A system's user may publish only the
ingress types to its own ingress subjects in its township's subtree (natsusers.system_permissions).
The password is in the registry because the server's users are rendered from it; nats-server keeps
it in its auth file (0600) beside the configuration.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from daiban_contracts.ingress import check_system_id
from daiban_contracts.orgcodes import OrgCode, Tier
from daiban_contracts.subjects import Subjects
from daiban_devtools import natsconf
from daiban_devtools.credentials import write_secret
from daiban_devtools.natsusers import inbox_prefix, system_permissions, system_user

REGISTRY = "systems.json"


@dataclass(frozen=True)
class System:
    system: str
    township: str
    password: str

    @property
    def user(self) -> str:
        return system_user(self.system)


def load(path: Path) -> dict[str, System]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: System(name, entry["township"], entry["password"]) for name, entry in raw.items()}


def _save(path: Path, systems: dict[str, System]) -> None:
    raw = {s.system: {"township": s.township, "password": s.password} for s in systems.values()}
    write_secret(path, json.dumps(raw, ensure_ascii=False, indent=2))


def issue(path: Path, township: str, system: str) -> System:
    """A new credential for `system` (replacing any it had), limited to `township`'s subtree."""
    code = OrgCode.parse(township)
    if code.tier is not Tier.township:
        raise ValueError(f"区划代码{township}不是乡镇级单位")
    found = load(path)
    entry = System(check_system_id(system), code.value, natsconf.new_password())
    found[entry.system] = entry
    _save(path, found)
    return entry


def revoke(path: Path, system: str) -> bool:
    found = load(path)
    if found.pop(check_system_id(system), None) is None:
        return False
    _save(path, found)
    return True


def users(subjects: Subjects, systems: dict[str, System]) -> list[natsconf.User]:
    return [
        natsconf.User(s.user, system_permissions(subjects, s.township, s.system), password=s.password)
        for s in systems.values()
    ]


def reload_server(pid_file: Path) -> bool:
    """Have the running nats-server re-read its configuration (SIGHUP); False when none runs."""
    try:
        pid = int(pid_file.read_text().strip())
        if not _is_nats_server(pid):
            # A pid file left by a server that died: its number may be another process's now,
            # which SIGHUP would end.
            return False
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def _is_nats_server(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.parent.joinpath("self").exists():
        return True  # no /proc to ask: trust the pid file
    try:
        return b"nats-server" in cmdline.read_bytes()
    except OSError:
        return False


def credential_text(entry: System, url: str) -> str:
    """What the system's operators are given, once: how to connect and where to publish."""
    return json.dumps(
        {
            "url": url,
            "user": entry.user,
            "password": entry.password,
            "inbox_prefix": inbox_prefix(entry.user),
            "township": entry.township,
            "system": entry.system,
        },
        ensure_ascii=False,
        indent=2,
    )
