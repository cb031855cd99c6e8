"""Fixtures: a fresh app per test, on SQLite and (when configured) on PostgreSQL.

Every API test runs against both databases. PostgreSQL is used when
``FLEXIGIFT_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise its
half of each test is skipped, with that reason shown.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
import psycopg
import pytest

from api_helpers import JsonClient  # noqa: F401 - tests import it from here too
import webtest

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import connect_url, open_database
from flexigift.migrations import migrate
from flexigift.models import SchemaVersion, ServerSecret

BASE_POSTGRES_URL = os.environ.get("FLEXIGIFT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]
#: pytest-xdist's worker name ("gw0", …); empty when the suite runs in one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_database(url: str | None) -> str | None:
    """Each xdist worker gets a database of its own beside the configured one (``test_gw0``…)."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{WORKER}"
    with psycopg.connect(url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


POSTGRES_URL = _worker_database(BASE_POSTGRES_URL)
_SKIP_POSTGRES = ("PostgreSQL tests need FLEXIGIFT_TEST_POSTGRES_URL "
                  "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
#: Whether this process has migrated its PostgreSQL database since it last emptied it whole.
_postgres_migrated = False


def _drop_postgres(url: str) -> None:
    """Drop every table, so the next test starts from a blank database."""
    global _postgres_migrated
    db = connect_url(url, pool_size=1)
    with db.connection_context():
        existing = set(db.get_tables())
        doomed = [f'"{name}"' for name in existing]
        if doomed:
            db.execute_sql(f"DROP TABLE IF EXISTS {', '.join(doomed)} CASCADE")
    db.close_all()
    _postgres_migrated = False


def _quoted(table: str) -> str:
    return f'"{table}"'


def _empty_postgres(url: str) -> None:
    """A migrated schema with no rows: migrated once per process, then emptied per test."""
    global _postgres_migrated
    if not _postgres_migrated:
        _drop_postgres(url)
    db = connect_url(url, pool_size=1)
    try:
        with db.connection_context():
            if not _postgres_migrated:
                migrate(db)
                _postgres_migrated = True
                return
            kept = {SchemaVersion._meta.table_name, ServerSecret._meta.table_name}  # made by migrating
            tables = [name for name in db.get_tables() if name not in kept]
            if not db.execute_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
                db.execute_sql(f"TRUNCATE {', '.join(map(_quoted, tables))} RESTART IDENTITY CASCADE")
                return
            with db.atomic():
                # DELETE, not TRUNCATE: a TRUNCATE makes new files for every table and index
                # and took 0.3-1 s a test; deleting the few rows a test leaves takes
                # milliseconds. Foreign keys and the row-count triggers are off meanwhile
                # (a superuser's session_replication_role; row_count is emptied too), and
                # the tables' id sequences restart, as TRUNCATE … RESTART IDENTITY does.
                db.execute_sql("SET LOCAL session_replication_role = replica")
                for name in tables:
                    db.execute_sql(f"DELETE FROM {_quoted(name)}")
                db.execute_sql(
                    "SELECT setval(sequence.oid, 1, false) FROM pg_class sequence "
                    "JOIN pg_depend owned ON owned.objid = sequence.oid AND owned.deptype = 'a' "
                    "JOIN pg_class owner ON owner.oid = owned.refobjid "
                    "WHERE sequence.relkind = 'S' AND owner.relname = ANY(%s)", (tables,))
    finally:
        db.close_all()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once per process; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "flexigift.db"
    db = open_database(f"sqlite:///{path}", pool_size=1)
    migrate(db)
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close_all()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, _sqlite_template) -> str:
    """The URL of a freshly migrated database of each backend, holding no rows."""
    if request.param == "sqlite":
        path = tmp_path / "flexigift.db"
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite:///{path}"
    if not POSTGRES_URL:
        pytest.skip(_SKIP_POSTGRES)
    _empty_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def blank_database_url(request, tmp_path) -> str:
    """The URL of a database of each backend with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    if not POSTGRES_URL:
        pytest.skip(_SKIP_POSTGRES)
    _drop_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def app(database_url):
    application = create_app(Config(database_url=database_url, auth=False))
    yield application
    db = application.extensions["flexigift_db"]
    if isinstance(db, peewee.Database) and hasattr(db, "close_all"):
        db.close_all()


@pytest.fixture
def client(app) -> webtest.TestApp:
    """A WebTest client speaking to the app; JSON helpers send ``Content-Type: application/json``."""
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})


@pytest.fixture
def json_client(client) -> "JsonClient":
    return JsonClient(client)


def pytest_report_header(config):
    if POSTGRES_URL:
        return f"PostgreSQL suite: on ({POSTGRES_URL})"
    return ("PostgreSQL suite: SKIPPED, FLEXIGIFT_TEST_POSTGRES_URL is not set "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)")


def pytest_terminal_summary(terminalreporter):
    if not POSTGRES_URL:
        skipped = len(terminalreporter.stats.get("skipped", []))
        terminalreporter.write_line(
            f"{skipped} tests skipped: the PostgreSQL half of the suite needs "
            "FLEXIGIFT_TEST_POSTGRES_URL", yellow=True)
