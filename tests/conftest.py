"""Fixtures: a fresh app per test, on SQLite and (when configured) on PostgreSQL.

Every API test runs against both databases. PostgreSQL is used when
``FLEXIGIFT_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise its
half of each test is skipped, with that reason shown.
"""
from __future__ import annotations

import os

import peewee
import pytest
import webtest

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import connect_url
from flexigift.models import TABLES

POSTGRES_URL = os.environ.get("FLEXIGIFT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def _reset_postgres(url: str) -> None:
    """Drop every table, so each test starts from an empty, freshly migrated schema."""
    db = connect_url(url, pool_size=1)
    with db.connection_context():
        tables = [model._meta.table_name for model in TABLES]
        existing = set(db.get_tables())
        doomed = [f'"{name}"' for name in tables if name in existing]
        if doomed:
            db.execute_sql(f"DROP TABLE IF EXISTS {', '.join(doomed)} CASCADE")
    db.close_all()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """The URL of an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flexigift.db'}"
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need FLEXIGIFT_TEST_POSTGRES_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    _reset_postgres(POSTGRES_URL)
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


class JsonClient:
    """Sends and accepts plain JSON, as the tutorials' curl commands do."""

    ACCEPT = "application/json"

    def __init__(self, client: webtest.TestApp, accept: str | None = None):
        self.client = client
        self.accept = accept or self.ACCEPT

    def _headers(self, headers=None):
        merged = {"Accept": self.accept}
        merged.update(headers or {})
        return merged

    def get(self, url, status=200, headers=None):
        return self.client.get(url, headers=self._headers(headers), status=status)

    def delete(self, url, status=204, headers=None):
        return self.client.delete(url, headers=self._headers(headers), status=status)

    def post(self, url, body, status=201, headers=None):
        return self.client.post_json(url, body, headers=self._headers(headers), status=status)

    def put(self, url, body, status=200, headers=None):
        return self.client.put_json(url, body, headers=self._headers(headers), status=status)

    def patch(self, url, body, status=200, headers=None):
        return self.client.patch_json(url, body, headers=self._headers(headers), status=status)

    def raw(self, method, url, body: bytes, content_type="application/json", status="*", headers=None):
        return self.client.request(url, method=method, body=body,
                                   headers=self._headers({"Content-Type": content_type, **(headers or {})}),
                                   status=status, expect_errors=True)


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
