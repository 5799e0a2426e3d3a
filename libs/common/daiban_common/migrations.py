"""Alembic, one migration history per service schema.

A service's `migrations/env.py` is two lines that call `run_env`; the CLI and the tests call
`upgrade`. Migrations run before a service starts, never from inside a running service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from daiban_common.db import safe_identifier, sqlalchemy_url
from daiban_common.service import ServiceSpec

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a running service only needs `migrations_dir`, and
# importing alembic (and every SQL dialect it registers) would cost it ~12 MB resident.


def alembic_config(spec: ServiceSpec, database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(spec.migrations))
    config.set_main_option("version_path_separator", "os")
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = spec.schema
    return config


def upgrade(spec: ServiceSpec, database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(spec, database_url), revision)


def make_revision(spec: ServiceSpec, database_url: str, message: str) -> None:
    """Autogenerate a revision from the models (a developer tool; review what it writes)."""
    from alembic import command

    config = alembic_config(spec, database_url)
    command.upgrade(config, "head")
    command.revision(config, message=message, autogenerate=True)


def run_env(metadata: MetaData) -> None:
    """Body of every service's env.py: migrate that service's schema and nothing else."""
    from alembic import context

    config = context.config
    schema = safe_identifier(str(config.attributes["schema"]))
    url = str(config.attributes["database_url"])

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # SQLModel.metadata is shared by every installed service: without this, autogenerate would
        # propose the other services' tables as this service's.
        if type_ == "table":
            return bool(obj.schema == schema)
        return True

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
        # SQLModel's AutoString is a plain VARCHAR; rendering it as such keeps revisions free of
        # sqlmodel imports (and of types mypy cannot see through).
        if type_ == "type" and type(obj).__name__ == "AutoString":
            length = getattr(obj, "length", None)
            return f"sa.String(length={length})" if length else "sa.String()"
        return False

    def do_run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_schemas=True,
            include_name=include_name,
            include_object=include_object,
            render_item=render_item,
            version_table_schema=schema,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def migrations_dir(package_file: str) -> Path:
    return Path(package_file).resolve().parent / "migrations"
