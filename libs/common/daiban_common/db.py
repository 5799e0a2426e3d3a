"""Database access: one async engine per service, one schema per service."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

_SCHEME_RE = re.compile(r"^postgres(ql)?(\+[a-z0-9]+)?://")
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def empty_list() -> list[Any]:
    """`default_factory` for a table model's list field, instead of `list`: SQLModel builds every
    row object with each field's default, pydantic asks the factory's signature each time, and a
    builtin's costs ~175 us to parse (a Case or Task paid that twice, more than building the rest
    of the object); a Python function's ~7 us."""
    return []


def asyncpg_dsn(url: str) -> str:
    """The plain `postgresql://` form asyncpg itself accepts."""
    return _SCHEME_RE.sub("postgresql://", url, count=1)


def sqlalchemy_url(url: str) -> str:
    """The `postgresql+asyncpg://` form SQLAlchemy needs."""
    return _SCHEME_RE.sub("postgresql+asyncpg://", url, count=1)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{database}" + (f"?{query}" if query else "")


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pool_pre_ping: it costs three round trips (BEGIN, ";", ROLLBACK) on every checkout,
        # a fifth of an acceptance's statements. `_discard_closed` catches what pre-ping would
        # (a restarted or terminated server closes the socket, which asyncpg notices while the
        # connection sits in the pool) at no cost; a connection that dies in the instant between
        # makes its statement fail as a disconnect, SQLAlchemy then invalidates the whole pool
        # and the request answers a 503 problem (daiban_common.errors), never a 500.
        pool_pre_ping=False,
        # Timestamps are stored and compared in UTC; Asia/Shanghai is applied when showing dates.
        connect_args={"server_settings": {"timezone": "UTC", "application_name": "daiban"}},
    )
    event.listen(engine.sync_engine.pool, "checkout", _discard_closed)
    return engine


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Refuse a pooled connection whose socket the server has closed; the pool reconnects."""
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None and raw.is_closed():
        raise DisconnectionError("connection closed by the server while in the pool")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def safe_identifier(name: str) -> str:
    if not _IDENT_RE.match(name):
        raise ValueError(f"{name!r} is not a safe SQL identifier")
    return name


async def ensure_database(url: str, database: str) -> None:
    """Create `database` on the server of `url` if it does not exist (nodes get a database each)."""
    safe_identifier(database)
    conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # another process created it between the check and the create
    finally:
        await conn.close()


async def ensure_schema(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{safe_identifier(schema)}"'))


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
