"""The boundaries the architecture draws, held by reading every import of the tree.

Services talk only through events, so no service imports another; the shared library is below
the services and names none of them (it finds them through entry points); `domain/` packages
are pure rules, so they import no database, web, HTTP client or broker library. The contracts are
installed alone by systems outside the suite, so they import pydantic and the standard library
only; the developer tools sit above the platform and the services, which never import them.
Imports inside functions count too: a lazy import crosses a boundary just the same.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
SERVICE_PACKAGES = {f"daiban_{name}" for name in SERVICES}
IO_LIBRARIES = {"sqlalchemy", "sqlmodel", "fastapi", "starlette", "httpx", "nats", "asyncpg", "uvicorn"}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def top_package(module: str) -> str:
    return module.split(".", 1)[0]


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_tree_has_the_services_this_test_expects() -> None:
    # Guards the test itself: an empty discovery would make every check below pass.
    assert {"intake", "catalogue", "routing", "audit"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    own = f"daiban_{service}"
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files(ROOT / "services" / service)
        for line, module in imported_modules(path)
        if top_package(module) in SERVICE_PACKAGES - {own}
    ]
    assert crossings == []


def test_the_shared_library_imports_no_service() -> None:
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files(ROOT / "libs")
        for line, module in imported_modules(path)
        if top_package(module) in SERVICE_PACKAGES
    ]
    assert crossings == []


def test_the_contracts_import_pydantic_and_the_standard_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "daiban_contracts", "__future__"}
    files = python_files(ROOT / "libs" / "contracts")
    assert files
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path)
        if top_package(module) not in allowed
    ]
    assert crossings == []


@pytest.mark.parametrize("folder", ["libs/common", "libs/contracts", "services"])
def test_nothing_a_node_installs_imports_the_developer_tools(folder: str) -> None:
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files(ROOT / folder)
        for line, module in imported_modules(path)
        if top_package(module) == "daiban_devtools"
    ]
    assert crossings == []


@pytest.mark.parametrize("service", SERVICES)
def test_domain_rules_do_no_io(service: str) -> None:
    domains = [
        p
        for p in (ROOT / "services" / service).rglob("domain*")
        if "__pycache__" not in p.parts and "migrations" not in p.parts
    ]
    files = [f for d in domains for f in ([d] if d.is_file() else python_files(d)) if f.suffix == ".py"]
    if not files:
        pytest.skip(f"{service} has no domain rules")  # -ra lists it: a missing domain/ is seen
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path)
        if top_package(module) in IO_LIBRARIES
    ]
    assert crossings == []
