"""A PostgreSQL transaction's BEGIN travels with its first statement (one round trip,
not two): the transaction must still be one, hold its row locks to the end, and roll
back whole, whatever its first statement is and however it is sent.
"""
from __future__ import annotations

import peewee
import psycopg
import pytest

from flexigift.db import database
from flexigift.models import Issuer
from flexigift.services.bulk import _copy


@pytest.fixture
def pg(app, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("BEGIN is deferred on PostgreSQL only")
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        yield db


def _issuer(name: str) -> dict:
    return {"name": name, "currency_code": "USD", "date_created": "2026-01-01", "date_modified": "2026-01-01"}


def test_the_statements_of_a_transaction_share_one_transaction(pg):
    with pg.atomic():
        first = pg.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]
        second = pg.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]
    assert first == second
    with pg.atomic():
        third = pg.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]
    assert third != first


def test_a_row_lock_taken_by_the_first_statement_holds_until_commit(pg, database_url):
    Issuer.insert(_issuer("Gap")).execute()
    with pg.atomic():
        Issuer.select().where(Issuer.name == "Gap").for_update().execute()
        with psycopg.connect(database_url, autocommit=True) as other:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT 1 FROM issuer WHERE name = 'Gap' FOR UPDATE NOWAIT")
    with psycopg.connect(database_url, autocommit=True) as other:
        assert other.execute("SELECT 1 FROM issuer WHERE name = 'Gap' FOR UPDATE NOWAIT").fetchone() == (1,)


def test_a_transaction_rolls_back_whole_its_first_statement_included(pg):
    with pytest.raises(RuntimeError):
        with pg.atomic():
            Issuer.insert(_issuer("Gap")).execute()
            raise RuntimeError("abandoned")
    assert Issuer.select().count() == 0


def test_a_first_statement_that_fails_is_a_peewee_error_and_the_connection_goes_on(pg):
    Issuer.insert(_issuer("Gap")).execute()
    with pytest.raises(peewee.IntegrityError):
        with pg.atomic():
            Issuer.insert(_issuer("Gap")).execute()
    with pg.atomic():
        assert Issuer.select().count() == 1
    assert pg.connection().info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_copy_in_a_transaction_rolls_back_with_it(pg):
    sql = 'COPY "issuer" ("name", "currency_code", "date_created", "date_modified") FROM STDIN'
    with pytest.raises(RuntimeError):
        with pg.atomic():
            _copy(sql, [("Gap", "USD", "2026-01-01", "2026-01-01")])
            raise RuntimeError("abandoned")
    assert Issuer.select().count() == 0


def test_a_transaction_that_sends_nothing_leaves_the_connection_idle(pg):
    with pg.atomic():
        pass
    assert pg.connection().info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert database.obj is pg
