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
import time

import peewee
import pytest
import webtest

from api_helpers import JsonClient
from flexigift.app import create_app
from flexigift.config import Config, ConfigError
from flexigift.db import connect_url, contention, database, is_postgres, unavailable
from money_helpers import DOG_BED, kohls_world

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


#: A lock wait configured short (FLEXIGIFT_LOCK_WAIT), so a test outwaits it in a second.
SHORT_WAIT = 1


def _pg_app(database_url, lock_wait=None):
    if not database_url.startswith("postgres"):
        pytest.skip("a lost server connection is a PostgreSQL matter (an SQLite file stays)")
    application = create_app(Config(database_url=database_url, auth=False, lock_wait_seconds=lock_wait))
    application.config["TEST_DATABASE_URL"] = database_url
    yield application
    application.extensions["flexigift_db"].close_all()


@pytest.fixture
def pg_app(database_url):
    yield from _pg_app(database_url)


@pytest.fixture
def impatient_pg_app(database_url):
    """The app on PostgreSQL, its writes waiting :data:`SHORT_WAIT` for a lock."""
    yield from _pg_app(database_url, SHORT_WAIT)


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


# -- contention: a deadlock is retried, never a 500 ------------------------------------
def test_a_real_deadlock_is_recognised_as_contention(pg_app):
    """Two sessions taking two locks in opposite orders: PostgreSQL ends one with a
    deadlock, and that error (wrapped by peewee) is classed as contention, not as a bug."""
    url = pg_app.config["TEST_DATABASE_URL"]
    sessions = [connect_url(url, pool_size=1), connect_url(url, pool_size=1)]
    barrier = threading.Barrier(2, timeout=30)
    errors = []

    def take(db, first, second):
        with db.connection_context():
            try:
                with db.atomic():
                    db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (first,))
                    barrier.wait()
                    db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (second,))
            except peewee.PeeweeException as error:
                errors.append(error)

    threads = [threading.Thread(target=take, args=(sessions[0], 7101, 7102)),
               threading.Thread(target=take, args=(sessions[1], 7102, 7101))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in sessions:
        db.close_all()
    assert len(errors) == 1
    assert contention(errors[0])
    assert not unavailable(errors[0])


def _wait_until_a_session_waits_for_a_lock(blocker, thread, outcome, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not thread.is_alive():
            response = outcome.get("response")
            raise AssertionError(f"the request ended without waiting: {response and response.body[:300]}")
        blocker.execute_sql("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot
        waiting = blocker.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the blocker's lock")


def _against_an_opposite_locker(app, request, card_pk: int, user_pk: int):
    """Run ``request`` while another session holds the card's row and then asks for the
    user's: the request, holding the user and waiting for the card, is the one PostgreSQL
    ends (the other session's deadlock_timeout is longer), and it must be retried."""
    url = app.config["TEST_DATABASE_URL"]
    blocker = connect_url(url, pool_size=1)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("response", request()))
    with blocker.connection_context():
        with blocker.atomic():
            blocker.execute_sql("SET LOCAL deadlock_timeout = '60s'")
            blocker.execute_sql("SELECT id FROM gift_card WHERE id = %s FOR UPDATE", (card_pk,))
            thread.start()
            _wait_until_a_session_waits_for_a_lock(blocker, thread, outcome)
            # Now the opposite order: the user the request holds. PostgreSQL breaks the
            # deadlock by ending the request's transaction; this statement then goes on.
            blocker.execute_sql("SELECT id FROM \"user\" WHERE id = %s FOR UPDATE", (user_pk,))
        thread.join(60)
    blocker.close_all()
    return outcome["response"]


def _linked_card(app):
    client = _client(app)
    card, _ = kohls_world(JsonClient(client), balance="100.00")
    user = client.post_json("/users", {"user_id": "shopper"}, headers={"Accept": "application/json"}).json
    return client, card, user


def test_a_patch_of_a_user_that_deadlocks_is_retried(pg_app):
    client, card, user = _linked_card(pg_app)
    response = _against_an_opposite_locker(
        pg_app, lambda: client.patch_json(f"/users/{user['id']}", {"gift_cards": [card["card_id"]]},
                                          headers={"Accept": "application/json"}, expect_errors=True),
        card["id"], user["id"])
    assert response.status_int == 200, response.body[:300]
    assert client.get(f"/users/{user['id']}", headers={"Accept": "application/json"}).json["gift_cards"] \
        == [card["card_id"]]


def test_a_redemption_that_deadlocks_is_retried(pg_app):
    client, card, user = _linked_card(pg_app)
    client.patch_json(f"/users/{user['id']}", {"gift_cards": [card["card_id"]]},
                      headers={"Accept": "application/json"})
    response = _against_an_opposite_locker(
        pg_app, lambda: client.post_json(f"/gift_cards/{card['id']}/redeem", {"product_id": DOG_BED["product_id"]},
                                         headers={"Accept": "application/json"}, expect_errors=True),
        card["id"], user["id"])
    assert response.status_int == 201, response.body[:300]
    assert client.get(f"/gift_cards/{card['id']}", headers={"Accept": "application/json"}).json["balance"] == 50


# -- timeouts: a database that does not answer in time is a 503 ----------------------
def test_postgresql_sessions_bound_their_statements_and_lock_waits(pg_app):
    db = pg_app.extensions["flexigift_db"]
    with db.connection_context():
        shown = {name: db.execute_sql(f"SHOW {name}").fetchone()[0]
                 for name in ("statement_timeout", "lock_timeout")}
    assert shown == {"statement_timeout": "30s", "lock_timeout": "10s"}


def _lock_wait_ms(app) -> int:
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        if is_postgres(db):
            return int(db.execute_sql("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'").fetchone()[0])
        return db.execute_sql("PRAGMA busy_timeout").fetchone()[0]


@pytest.mark.parametrize("setting, expected_ms", [
    (None, {"sqlite": 30_000, "postgresql": 10_000}), ("45", 45_000), ("2m", 120_000)])
def test_the_lock_wait_is_the_databases_default_or_flexigift_lock_wait(database_url, setting, expected_ms):
    env = {"DATABASE_URL": database_url, "FLEXIGIFT_AUTH": "off"}
    if setting is not None:
        env["FLEXIGIFT_LOCK_WAIT"] = setting
    app = create_app(Config.from_env(env))
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    try:
        assert _lock_wait_ms(app) == (expected_ms[backend] if isinstance(expected_ms, dict) else expected_ms)
    finally:
        app.extensions["flexigift_db"].close_all()


@pytest.mark.parametrize("setting", ["0", "601", "-1", "soon", "1.5", "10ms"])
def test_a_lock_wait_that_cannot_be_used_is_refused_naming_the_variable(setting):
    with pytest.raises(ConfigError, match="FLEXIGIFT_LOCK_WAIT"):
        Config.from_env({"FLEXIGIFT_LOCK_WAIT": setting})


@pytest.mark.parametrize("media_type", ["application/hal+xml", "application/json"])
def test_a_write_waiting_too_long_for_a_lock_is_a_503_to_retry(impatient_pg_app, media_type):
    client, card, _ = _linked_card(impatient_pg_app)
    blocker = connect_url(impatient_pg_app.config["TEST_DATABASE_URL"], pool_size=1)
    with blocker.connection_context():
        with blocker.atomic():
            blocker.execute_sql("SELECT id FROM gift_card WHERE id = %s FOR UPDATE", (card["id"],))
            response = client.patch_json(f"/gift_cards/{card['id']}", {"reference": "late"},
                                         headers={"Accept": media_type}, expect_errors=True)
    blocker.close_all()
    assert response.status_int == 503, response.body[:300]
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == media_type
    assert b"database_unavailable" in response.body
    again = client.patch_json(f"/gift_cards/{card['id']}", {"reference": "late"},
                              headers={"Accept": "application/json"})
    assert again.json["reference"] == "late"


def test_an_sqlite_file_locked_past_the_busy_timeout_is_a_503(tmp_path):
    """Another process holds SQLite's write lock longer than the busy timeout (here configured
    short): the write answers 503 with Retry-After, and reads (WAL) go on meanwhile."""
    import sqlite3

    path = tmp_path / "locked.db"
    app = create_app(Config(database_url=f"sqlite:///{path}", auth=False, lock_wait_seconds=SHORT_WAIT))
    client = _client(app)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert client.get("/users", headers={"Accept": "application/json"}).status_int == 200
        response = client.post_json("/users", {"user_id": "waiting"}, headers={"Accept": "text/html"},
                                    expect_errors=True)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert response.status_int == 503, response.body[:300]
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == "text/html"
    assert client.post_json("/users", {"user_id": "waiting"}, headers={"Accept": "application/json"}).status_int == 201
    app.extensions["flexigift_db"].close_all()
