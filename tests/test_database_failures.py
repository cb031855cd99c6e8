"""When the database fails: a lost connection, a database that went away, contention.

A client must be able to tell "retry later" from "bug": a database that cannot
be reached answers 503 with ``Retry-After`` in the negotiated format, never 500;
a connection lost while it sat idle between requests is replaced without the
client noticing when the request is a read; on PostgreSQL, writes racing each
other on the same rows never answer 500 (a deadlock or a serialization failure
is retried).
"""
from __future__ import annotations

import threading

import peewee
import pytest
import webtest

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import connect_url, database

MEDIA_TYPES = ["application/hal+json", "application/json", "application/vnd.siren+json",
               "application/hal+xml", "text/html"]


def _terminate_other_connections(url: str) -> int:
    """End every other session on the app's database, as a restart of PostgreSQL would."""
    admin = connect_url(url, pool_size=1)
    with admin.connection_context():
        ended = admin.execute_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    admin.close_all()
    return ended


@pytest.fixture
def pg_app(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("a lost server connection is a PostgreSQL matter (an SQLite file stays)")
    application = create_app(Config(database_url=database_url, auth=False))
    application.config["TEST_DATABASE_URL"] = database_url
    yield application
    application.extensions["flexigift_db"].close_all()


def _client(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})


def test_a_read_after_the_database_dropped_the_kept_connection_just_works(pg_app):
    client = _client(pg_app)
    client.post_json("/users", {"user_id": "user001"}, headers={"Accept": "application/json"})
    assert client.get("/users/1", headers={"Accept": "application/json"}).json["user_id"] == "user001"
    assert _terminate_other_connections(pg_app.config["TEST_DATABASE_URL"]) >= 1
    for media_type in MEDIA_TYPES:
        response = client.get("/users/1", headers={"Accept": media_type})
        assert response.status_int == 200


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_a_write_on_a_lost_connection_is_a_503_to_retry_and_the_next_one_works(pg_app, media_type):
    client = _client(pg_app)
    client.get("/users", headers={"Accept": "application/json"})  # a connection is kept
    _terminate_other_connections(pg_app.config["TEST_DATABASE_URL"])
    response = client.post_json("/users", {"user_id": "user002"}, headers={"Accept": media_type},
                                expect_errors=True)
    assert response.status_int == 503
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == media_type.split(";")[0]
    assert b"database_unavailable" in response.body
    again = client.post_json("/users", {"user_id": "user002"}, headers={"Accept": "application/json"})
    assert again.status_int == 201
    assert client.get("/users?user_id=user002", headers={"Accept": "application/json"}).json[0]["user_id"] == "user002"


def test_a_database_that_cannot_be_reached_is_a_503_not_a_500(tmp_path):
    """A PostgreSQL URL whose server is not there (a closed port): every request says so."""
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'f.db'}", auth=False))
    client = _client(app)
    client.get("/users", headers={"Accept": "application/json"})
    # Point the app at a server that is not running, as if the database had stopped.
    db = app.extensions["flexigift_db"]
    gone = connect_url("postgresql://postgres@127.0.0.1:9/nothing", pool_size=1)
    app.extensions["flexigift_db"] = gone
    database.initialize(gone)
    try:
        for media_type in MEDIA_TYPES:
            response = client.get("/users", headers={"Accept": media_type}, expect_errors=True)
            assert response.status_int == 503, response.body[:300]
            assert response.headers["Retry-After"] == "2"
    finally:
        app.extensions["flexigift_db"] = db
        database.initialize(db)
        db.close_all()
