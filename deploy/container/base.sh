#!/usr/bin/env bash
# A base image without a registry: Debian 12 (bookworm, Python 3.11) from Debian's own packages,
# imported as localhost/debian-python:bookworm. Where a registry is reachable, ops teams build on
# their usual base instead (BASE=... build.sh). Needs root and debootstrap; about 2-3 minutes.
set -euo pipefail
name="${BASE:-localhost/debian-python:bookworm}"
if podman image exists "$name"; then
    echo "base $name exists"
    exit 0
fi
mirror="${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
    "${mirror:-http://deb.debian.org/debian}" >/dev/null
tar -C "$rootfs" -c . | podman import --quiet - "$name" >/dev/null
echo "base $name: $(podman image inspect --format '{{.Size}}' "$name" | awk '{printf "%d MB", $1/1000000}')"
