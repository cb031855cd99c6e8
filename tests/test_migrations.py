"""Migrations: each step applied once, even by several processes starting at once,
and the row counters (PostgreSQL) exact whatever the table held before."""
from __future__ import annotations

import threading

import pytest
import webtest

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import is_postgres, open_database
from flexigift.migrations import MIGRATIONS, migrate
from flexigift.models import GiftCard, Issuer, SchemaVersion, Transaction, User


@pytest.fixture
def db(database_url):
    db = open_database(database_url, pool_size=8)
    yield db
    db.close_all()


def versions(db) -> list[int]:
    with db.connection_context():
        return [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)]


def test_migrating_twice_applies_nothing_the_second_time(db):
    assert migrate(db) == [version for version, _, _ in MIGRATIONS]
    assert migrate(db) == []
    assert versions(db) == [version for version, _, _ in MIGRATIONS]


def test_processes_starting_together_apply_each_step_once(db):
    results, errors = [], []
    start = threading.Barrier(6)

    def run():
        try:
            start.wait()
            results.append(migrate(db))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    applied = sorted(version for result in results for version in result)
    assert applied == [version for version, _, _ in MIGRATIONS]


def test_row_counters_start_from_the_rows_already_there(db, database_url):
    """A database at version 1 with data: after migrating, whole-collection totals are exact."""
    first, *later = MIGRATIONS
    with db.connection_context():
        db.create_tables([SchemaVersion])
        first[2](db)
        SchemaVersion.create(version=first[0])
        issuer = Issuer.create(name="Gap")
        users = [User.create(user_id=f"user{n}") for n in range(3)]
        for n in range(5):
            card = GiftCard.create(card_id=f"card{n}", issuer=issuer, balance=100, initial_balance=100,
                                   currency_code="USD", user=users[n % 3])
            Transaction.create(gift_card=card, kind="issue", amount=100, balance_after=100)
    assert migrate(db) == [version for version, _, _ in later]

    client = webtest.TestApp(create_app(Config(database_url=database_url, auth=False)))
    totals = {name: client.get(f"/{name}", headers={"Accept": "application/hal+json"}).json["total_items"]
              for name in ("issuers", "users", "gift_cards", "transactions")}
    assert totals == {"issuers": 1, "users": 3, "gift_cards": 5, "transactions": 5}


def test_whole_collection_totals_follow_inserts_and_deletes(json_client):
    def total(name):
        return int(json_client.get(f"/{name}").headers["X-Total-Count"])

    for n in range(4):
        json_client.post("/users", {"user_id": f"user{n}"})
    json_client.delete(f"/users/{json_client.get('/users?user_id=user2').json[0]['id']}")
    assert total("users") == 3
    json_client.post("/gift_cards", {"card_id": "one", "issuer": "Gap", "balance": 5})
    issuer = json_client.get("/issuers?name=Gap").json[0]["id"]
    json_client.post(f"/issuers/{issuer}/generate_codes", {"number_of_codes": 25, "balance": 10})
    assert total("gift_cards") == 26
    assert total("transactions") == 26
    assert total("issuers") == 1


def test_postgres_counts_with_triggers_and_sqlite_without(db):
    migrate(db)
    with db.connection_context():
        if is_postgres(db):
            triggers = db.execute_sql("SELECT tgname FROM pg_trigger "
                                      "WHERE tgrelid = 'gift_card'::regclass AND NOT tgisinternal").fetchall()
            assert {name for name, in triggers} == {
                "gift_card_count_inserted", "gift_card_count_deleted", "gift_card_count_truncated"}
        else:
            assert db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall() == []
