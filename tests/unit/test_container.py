"""The image's Containerfile and healthcheck, read without building (deploy/container/build.sh builds)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "deploy" / "container"
CONTAINERFILE = (CONTAINER / "Containerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [
    line.split(maxsplit=1)
    for line in re.sub(r"\\\n", " ", CONTAINERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", CONTAINER / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_base_is_a_build_argument_and_the_user_is_not_root() -> None:
    assert INSTRUCTIONS[0][0] == "ARG" and INSTRUCTIONS[0][1].startswith("BASE=")
    assert INSTRUCTIONS[1] == ["FROM", "${BASE}"]
    [user] = [args for keyword, args in INSTRUCTIONS if keyword == "USER"]
    assert user.split(":")[0] not in {"0", "root"}


def test_it_installs_offline_from_wheels_and_nothing_of_a_developer() -> None:
    [run] = [args for keyword, args in INSTRUCTIONS if keyword == "RUN"]
    assert "--no-index --find-links /tmp/wheels" in run
    assert "rm -rf /tmp/wheels" in run and "uninstall --yes" in run
    for forbidden in ("devtools", "embedded", "nats-server", "apt-get", "gcc", "build-essential"):
        assert forbidden not in run, forbidden


def test_it_has_a_healthcheck_and_daiban_as_its_entrypoint() -> None:
    keywords = dict(INSTRUCTIONS)
    assert "healthcheck.py" in keywords["HEALTHCHECK"]
    assert keywords["ENTRYPOINT"] == '["daiban"]'


def test_the_healthcheck_finds_the_port_pid_1_listens_on() -> None:
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001 0 1111 1\n"
        "   1: 0100007F:1F43 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001 0 2222 1\n"
        "   2: 0100007F:1F41 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 10001 0 1111 1\n"
    )
    listening = healthcheck().listening
    assert listening(table, {"1111"}) == [("127.0.0.1", 8001)]  # 0.0.0.0: asked on loopback
    assert listening(table, {"2222"}) == [("127.0.0.1", 8003)]
    assert listening(table, {"3333"}) == []
