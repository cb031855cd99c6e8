"""The database: one peewee handle, opened from a URL, shared by every model.

Connections come from a pool and go back to it after each request, so they
stay open across requests. SQLite runs in WAL mode with a busy timeout and
takes its write lock when a transaction begins (``BEGIN IMMEDIATE``), so
several server processes can share one file without deadlocking.
"""
from __future__ import annotations

from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

#: Every model binds to this proxy; :func:`open_database` points it at a real database.
database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 30000,
    "foreign_keys": 1,
    "synchronous": "normal",
}


class UnsupportedDatabase(ValueError):
    """The DATABASE_URL names a database Flexigift does not run on."""


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _sqlite(path: str, pool_size: int) -> peewee.Database:
    db = PooledSqliteDatabase(
        path or ":memory:",
        pragmas=SQLITE_PRAGMAS,
        timeout=30,
        lock_type="IMMEDIATE",
        max_connections=pool_size,
        stale_timeout=600,
        check_same_thread=False,
    )
    # SQLite's lower() and LIKE fold ASCII only; wildcard filters on other text use this.
    db.register_function(_lower, "flexigift_lower", 1, deterministic=True)
    return db


def _postgres(url: str, pool_size: int) -> peewee.Database:
    parsed = urlparse(url)
    params = {
        "host": parsed.hostname or None,
        "port": parsed.port,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
    }
    return PooledPostgresqlDatabase(
        parsed.path.lstrip("/"),
        max_connections=pool_size,
        stale_timeout=600,
        **{key: value for key, value in params.items() if value is not None},
    )


def connect_url(url: str, pool_size: int = 16) -> peewee.Database:
    """A peewee database for ``sqlite:///path`` or ``postgresql://user@host:port/db``."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        return _sqlite(path, pool_size)
    if scheme in {"postgres", "postgresql"}:
        return _postgres(url, pool_size)
    raise UnsupportedDatabase(
        f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///<file> or postgresql://…"
    )


def open_database(url: str, pool_size: int = 16) -> peewee.Database:
    """Open the database at ``url`` and bind every model to it."""
    db = connect_url(url, pool_size)
    database.initialize(db)
    return db


def is_postgres(db: peewee.Database | None = None) -> bool:
    db = db or database.obj
    return isinstance(db, peewee.PostgresqlDatabase)
