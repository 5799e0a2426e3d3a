"""The image's HEALTHCHECK: GET /healthz of the service this container runs, standard library only.

The container runs one process (`daiban serve <name>`, PID 1); its port depends on DAIBAN_* settings,
`--port` or the service's default, so instead of working it out again this asks the kernel which
TCP port PID 1 listens on (its socket inodes in /proc/1/fd, matched in /proc/1/net/tcp{,6}).
Exit 0 when /healthz answers 200, 1 otherwise (Docker/podman's convention).
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

LISTEN = "0A"


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening(table: str, inodes: set[str]) -> list[tuple[str, int]]:
    """(host, port) of the sockets in a /proc/net/tcp{,6} table that are listening and ours."""
    found = []
    for line in table.splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state != LISTEN or inode not in inodes:
            continue
        address, port = local.rsplit(":", 1)
        # Bound to every address (0.0.0.0 or ::): ask on loopback; else on the address bound.
        if set(address) == {"0"}:
            host = "127.0.0.1"
        elif len(address) == 8:
            host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
        else:
            host = "::1"
        found.append((host, int(port, 16)))
    return found


def main(pid: int = 1) -> int:
    inodes = socket_inodes(pid)
    targets = []
    for name in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{name}")
        if path.exists():
            targets += listening(path.read_text(), inodes)
    if not targets:
        print("not listening (yet)", file=sys.stderr)
        return 1
    host, port = targets[0]
    url = f"http://[{host}]:{port}/healthz" if ":" in host else f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
