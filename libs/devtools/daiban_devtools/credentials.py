"""NATS passwords generated for the services of the nodes `daiban run` starts, kept under var/.

Each service of a node gets `<folder>/<service>.json` ({"user": ..., "password": ...}, mode 0600),
the file a service reads when `DAIBAN_NATS_CREDENTIALS` names the folder; the servers read the same
passwords from their environment (daiban_devtools.natsconf.password_variable).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from daiban_devtools import natsconf
from daiban_devtools.natsusers import OBSERVER, service_user


def write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def service_credentials(folder: Path, node_name: str, services: Sequence[str]) -> dict[str, str]:
    """The password of each service's user and the node's observer (user -> password), made once
    and kept in `folder`."""
    found: dict[str, str] = {}
    for service in [*services, OBSERVER]:
        user = service_user(node_name, service)
        path = folder / f"{service}.json"
        known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if known.get("user") != user or not natsconf.plain_password(str(known.get("password", ""))):
            known = {"user": user, "password": natsconf.new_password()}
            write_secret(path, json.dumps(known))
        found[user] = str(known["password"])
    return found


def server_env(passwords: dict[str, str]) -> dict[str, str]:
    """What a server's environment holds for `passwords` (user -> password)."""
    return {natsconf.password_variable(user): password for user, password in passwords.items()}
