"""PostgreSQL's BEGIN, COMMIT and ROLLBACK go to libpq directly (flexigift.db.PostgresDatabase):
a transaction must still be one, roll back whole, and fail at its COMMIT with the error
peewee would raise, leaving the connection ready for the next one.
"""
from __future__ import annotations

import peewee
import psycopg
import pytest


@pytest.fixture
def pg(app, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("the commands are sent this way on PostgreSQL only")
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        yield db


def _transaction_id(db) -> str:
    return db.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]


def _idle(db) -> bool:
    return db.connection().info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_the_statements_of_a_transaction_share_one_transaction(pg):
    with pg.atomic():
        first, second = _transaction_id(pg), _transaction_id(pg)
    with pg.atomic():
        third = _transaction_id(pg)
    assert first == second != third
    assert _idle(pg)


def test_a_transaction_that_fails_rolls_back_whole(pg):
    pg.execute_sql("CREATE TEMPORARY TABLE scratch (n integer)")
    with pytest.raises(RuntimeError):
        with pg.atomic():
            pg.execute_sql("INSERT INTO scratch VALUES (1)")
            raise RuntimeError("abandoned")
    assert pg.execute_sql("SELECT count(*) FROM scratch").fetchone()[0] == 0
    assert _idle(pg)


def test_a_commit_the_database_refuses_is_peewees_error_and_keeps_nothing(pg):
    pg.execute_sql("CREATE TEMPORARY TABLE scratch (n integer UNIQUE DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(peewee.IntegrityError):
        with pg.atomic():
            pg.execute_sql("INSERT INTO scratch VALUES (1), (1)")  # checked at COMMIT
    assert _idle(pg)
    with pg.atomic():
        assert pg.execute_sql("SELECT count(*) FROM scratch").fetchone()[0] == 0
