"""Migrations: each step applied once, even by several processes starting at once,
and the row counters (PostgreSQL) exact whatever the table held before."""
from __future__ import annotations

import datetime
import threading

import pytest
import webtest

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import connect_url, database, is_postgres, models_bound_to, open_database
from flexigift.migrations import MIGRATIONS, migrate, v1
from flexigift.models import TABLES, RowCount, SchemaVersion


@pytest.fixture
def db(blank_database_url):
    db = open_database(blank_database_url, pool_size=8)
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


def test_a_database_the_models_are_not_bound_to_is_migrated_itself(blank_database_url, tmp_path):
    """``migrate(db)`` works on ``db`` whatever the models point at: a database opened earlier in
    the process, another SQLite file (whose record of steps must not stand for this one's) or
    another handle on the same PostgreSQL database (whose connection would wait on this one's
    locks). Every step, its frozen models' rows included, lands in ``db``; the binding is restored."""
    postgres = blank_database_url.startswith("postgres")
    elsewhere = open_database(blank_database_url if postgres else f"sqlite:///{tmp_path / 'elsewhere.db'}",
                              pool_size=2)
    target = connect_url(blank_database_url, pool_size=1)
    try:
        if not postgres:
            migrate(elsewhere)
        first_five = [step for step in MIGRATIONS if step[0] <= 5]
        with models_bound_to(target), target.connection_context():
            target.create_tables([SchemaVersion])
            for version, _, step in first_five:
                step(target)
                SchemaVersion.create(version=version)
            issuer = v1.Issuer.create(name="Gulf Air", expires_after="1y", currency_code="BHD")
            v1.GiftCard.create(card_id="gulf-1", issuer=issuer, balance=1250, initial_balance=1250,
                               currency_code="BHD")
        assert database.obj is elsewhere

        assert migrate(target) == [version for version, _, _ in MIGRATIONS if version > 5]

        assert database.obj is elsewhere
        with models_bound_to(target), target.connection_context():
            assert versions(target) == [version for version, _, _ in MIGRATIONS]
            assert {model._meta.table_name for model in TABLES} <= set(target.get_tables())
            card = v1.GiftCard.get(v1.GiftCard.card_id == "gulf-1")
            assert (card.balance, card.initial_balance) == (12500, 12500)  # step 6: hundredths to fils
        if not postgres:
            assert versions(elsewhere) == [version for version, _, _ in MIGRATIONS]
    finally:
        target.close_all()
        elsewhere.close_all()


def test_row_counters_start_from_the_rows_already_there(db, blank_database_url):
    """A database at version 1 with data: after migrating, whole-collection totals are exact."""
    first, *later = MIGRATIONS
    with db.connection_context():
        db.create_tables([SchemaVersion])
        first[2](db)
        SchemaVersion.create(version=first[0])
        issuer = v1.Issuer.create(name="Gap")
        users = [v1.User.create(user_id=f"user{n}") for n in range(3)]
        for n in range(5):
            card = v1.GiftCard.create(card_id=f"card{n}", issuer=issuer, balance=100, initial_balance=100,
                                      currency_code="USD", user=users[n % 3])
            v1.Transaction.create(gift_card=card, kind="issue", amount=100, balance_after=100)
    assert migrate(db) == [version for version, _, _ in later]

    client = webtest.TestApp(create_app(Config(database_url=blank_database_url, auth=False)))
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


def test_both_databases_count_with_triggers(db):
    migrate(db)
    with db.connection_context():
        if is_postgres(db):
            triggers = db.execute_sql("SELECT tgname FROM pg_trigger "
                                      "WHERE tgrelid = 'gift_card'::regclass AND NOT tgisinternal").fetchall()
            assert {name for name, in triggers} == {
                "gift_card_count_inserted", "gift_card_count_deleted", "gift_card_count_truncated"}
        else:
            triggers = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name = 'gift_card'").fetchall()
            assert {name for name, in triggers} == {"gift_card_count_inserted", "gift_card_count_deleted"}


def _schema(db) -> dict[str, tuple[set, set]]:
    """Each table's columns (name, type, nullable, key) and indexes (columns, unique)."""
    tables = TABLES
    with db.connection_context():
        return {
            table: ({(column.name, column.data_type.lower(), column.null, column.primary_key)
                     for column in db.get_columns(table)},
                    {(tuple(index.columns), index.unique) for index in db.get_indexes(table)})
            for table in sorted(model._meta.table_name for model in tables)
        }


def test_a_database_migrated_from_version_1_has_the_schema_of_the_models(db):
    """Every schema change ships with its migration: migrating from nothing ends where
    creating today's tables does (columns, types, nullability, keys, indexes)."""
    migrate(db)
    migrated = _schema(db)
    with db.connection_context():
        if is_postgres(db):
            db.drop_tables(TABLES, cascade=True)
        else:
            db.drop_tables(TABLES)
        db.create_tables(TABLES)
    assert _schema(db) == migrated


def test_rows_made_at_version_1_survive_every_migration(db, blank_database_url):
    first, *later = MIGRATIONS
    with db.connection_context():
        db.create_tables([SchemaVersion])
        first[2](db)
        SchemaVersion.create(version=first[0])
        issuer = v1.Issuer.create(name="Kohls", expires_after="1y")
        user = v1.User.create(user_id="user005", email="steve@example.com")
        card = v1.GiftCard.create(card_id="kohls-gc-001", issuer=issuer, balance=2500, initial_balance=5000,
                                  currency_code="USD", user=user, metadata='{"a": 1.50}')
        product = v1.Product.create(product_id="kohls-towel", name="Towel", price=2500, issuer=issuer)
        v1.Transaction.create(gift_card=card, kind="issue", amount=5000, balance_after=5000)
        v1.Transaction.create(gift_card=card, kind="redeem", amount=-2500, balance_after=2500,
                              product=product, user=user, order_reference="o-1")
        before = {model.__name__: list(model.select().order_by(model.id).tuples()) for model in v1.MODELS}
    migrate(db)
    with db.connection_context():
        after = {model.__name__: list(model.select().order_by(model.id).tuples()) for model in v1.MODELS}
    assert after == before
    client = webtest.TestApp(create_app(Config(database_url=blank_database_url, auth=False)))
    card = client.get("/gift_cards/1", headers={"Accept": "application/json"}).json
    assert (card["card_id"], card["balance"], card["metadata"]) == ("kohls-gc-001", 25, {"a": 1.50})
    entries = client.get("/gift_cards/1/transactions", headers={"Accept": "application/json"}).json
    assert [(entry["kind"], entry["actor"]) for entry in entries] == [("issue", None), ("redeem", None)]


def test_step_6_converts_amounts_stored_as_hundredths_into_each_currencys_minor_units(db, blank_database_url):
    """Yen and dinars stored in hundredths become whole yen and thousandths of a dinar, with
    every ledger still adding up; dollars are untouched."""
    before_six = [step for step in MIGRATIONS if step[0] < 6]
    with db.connection_context():
        db.create_tables([SchemaVersion])
        for version, _, step in before_six:
            step(db)
            SchemaVersion.create(version=version)
        shops = {code: v1.Issuer.create(name=f"Shop {code}", currency_code=code) for code in ("JPY", "BHD", "USD")}
        amounts = {"JPY": (100000, 30050, 500000), "BHD": (125, 50, 1000), "USD": (2500, 1000, 5000)}
        for code, (initial, spent, limit) in amounts.items():
            card = v1.GiftCard.create(card_id=f"card-{code}", issuer=shops[code], balance=initial - spent,
                                      initial_balance=initial, currency_code=code, balance_max=limit)
            product = v1.Product.create(product_id=f"p-{code}", name="x", price=spent, issuer=shops[code])
            v1.Transaction.create(gift_card=card, kind="issue", amount=initial, balance_after=initial)
            v1.Transaction.create(gift_card=card, kind="redeem", amount=-spent, balance_after=initial - spent,
                                  product=product)
    migrate(db)
    client = webtest.TestApp(create_app(Config(database_url=blank_database_url, auth=False)))
    plain = {"Accept": "application/json"}
    expected = {"JPY": (700, 1000, 5000, "300", [1000, -300]), "BHD": (0.75, 1.25, 10, "0.500", [1.25, -0.5]),
                "USD": (15, 25, 50, "10.00", [25, -10])}
    for number, code in enumerate(("JPY", "BHD", "USD"), start=1):
        card = client.get(f"/gift_cards/{number}", headers=plain).json
        assert (card["balance"], card["initial_balance"], card["balance_max"]) == expected[code][:3]
        assert client.get(f"/products/{number}", headers=plain).json["price"] == expected[code][3]
        entries = client.get(f"/gift_cards/{number}/transactions", headers=plain).json
        assert [entry["amount"] for entry in entries] == expected[code][4]
        assert entries[-1]["balance_after"] == card["balance"]


def _fill_at_version_1_tables(db) -> dict[str, list[tuple]]:
    """Rows in the tables version 1 made (every later version keeps them); what they hold."""
    issuer = v1.Issuer.create(name="Kohls", expires_after="1y")
    user = v1.User.create(user_id="user006", email="ann@example.com")
    card = v1.GiftCard.create(card_id="kohls-gc-002", issuer=issuer, balance=1000, initial_balance=3000,
                              currency_code="USD", user=user, metadata='{"b": "x"}')
    product = v1.Product.create(product_id="kohls-mug", name="Mug", price=2000, issuer=issuer)
    v1.Transaction.create(gift_card=card, kind="issue", amount=3000, balance_after=3000)
    v1.Transaction.create(gift_card=card, kind="redeem", amount=-2000, balance_after=1000,
                          product=product, user=user, order_reference="o-2")
    return {model.__name__: list(model.select().order_by(model.id).tuples()) for model in v1.MODELS}


@pytest.mark.parametrize("shipped", [version for version, _, _ in MIGRATIONS])
def test_a_database_of_every_shipped_version_migrates_with_its_rows_intact(blank_database_url, shipped):
    """A database as version ``shipped`` left it (its steps, from the frozen definitions),
    holding rows, migrates to today's schema with every row as it was."""
    db = open_database(blank_database_url, pool_size=2)
    try:
        with db.connection_context():
            db.create_tables([SchemaVersion])
            for version, _, step in MIGRATIONS:
                if version > shipped:
                    break
                with db.atomic():
                    step(db)
                    SchemaVersion.create(version=version)
            before = _fill_at_version_1_tables(db)
        assert migrate(db) == [version for version, _, _ in MIGRATIONS if version > shipped]
        with db.connection_context():
            after = {model.__name__: list(model.select().order_by(model.id).tuples()) for model in v1.MODELS}
        assert after == before
    finally:
        db.close_all()
    client = webtest.TestApp(create_app(Config(database_url=blank_database_url, auth=False)))
    card = client.get("/gift_cards/1", headers={"Accept": "application/json"}).json
    assert (card["card_id"], card["balance"], card["metadata"]) == ("kohls-gc-002", 10, {"b": "x"})
    entries = client.get("/gift_cards/1/transactions", headers={"Accept": "application/json"}).json
    assert [entry["kind"] for entry in entries] == ["issue", "redeem"]


def test_the_migrate_command_lists_pending_steps_then_applies_them(blank_database_url):
    from click.testing import CliRunner

    from flexigift.cli import main

    runner = CliRunner()
    dry = runner.invoke(main, ["migrate", "--dry-run", "--database-url", blank_database_url])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [f"pending {version}: {description}"
                                       for version, description, _ in MIGRATIONS]
    again = runner.invoke(main, ["migrate", "--dry-run", "--database-url", blank_database_url])
    assert again.output == dry.output  # a dry run changes nothing
    done = runner.invoke(main, ["migrate", "--database-url", blank_database_url])
    assert done.exit_code == 0, done.output
    assert [line.split(":")[0] for line in done.output.splitlines()[:-1]] == [
        f"applied {version}" for version, _, _ in MIGRATIONS]
    last = runner.invoke(main, ["migrate", "--dry-run", "--database-url", blank_database_url])
    assert last.output.strip().endswith("nothing to do")


def test_step_9_indexes_when_idempotency_keys_were_used_and_keeps_existing_records(db):
    """Records made before version 9 keep the time their key was first used (pruning ages
    them from it) and gain the index pruning reads."""
    used = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)
    with db.connection_context():
        db.create_tables([SchemaVersion])
        for version, _, step in MIGRATIONS:
            if version >= 9:
                break
            step(db)
            SchemaVersion.create(version=version)
        assert ("date_created",) not in {tuple(index.columns) for index in db.get_indexes("idempotency_record")}
        v1.IdempotencyRecord.create(key="before-9", fingerprint="f" * 64, status=201, date_created=used)
    assert migrate(db) == [version for version, _, _ in MIGRATIONS if version >= 9]
    with db.connection_context():
        assert ("date_created",) in {tuple(index.columns) for index in db.get_indexes("idempotency_record")}
        assert [(record.key, record.date_created) for record in v1.IdempotencyRecord.select()] == [("before-9", used)]


def test_step_10_indexes_card_ids_for_prefix_counts_and_deep_pages(db, blank_database_url):
    """A database at version 9 holding cards: on PostgreSQL the index on lower(card_id) is made
    again holding card_id as well (a prefix's count reads the index alone); SQLite gains an
    index of the ids alone (deep pages). Either way the cards and what a prefix matches are
    unchanged, and every other index is as it was."""
    with db.connection_context():
        db.create_tables([SchemaVersion])
        for version, _, step in MIGRATIONS:
            if version >= 10:
                break
            step(db)
            SchemaVersion.create(version=version)
        issuer = v1.Issuer.create(name="Gap")
        for card_id in ("GAP-1", "gap-2", "kohls-3"):
            v1.GiftCard.create(card_id=card_id, issuer=issuer, balance=100, initial_balance=100, currency_code="USD")
        before = {index.name: index.columns for index in db.get_indexes("gift_card")}
    assert migrate(db) == [version for version, _, _ in MIGRATIONS if version >= 10]
    with db.connection_context():
        after = {index.name: index.columns for index in db.get_indexes("gift_card")}
        cards = [card.card_id for card in v1.GiftCard.select().order_by(v1.GiftCard.id)]
    assert cards == ["GAP-1", "gap-2", "kohls-3"]
    changed = "gift_card_card_id_lower" if is_postgres(db) else "gift_card_id"
    if is_postgres(db):
        assert before[changed] == ["lower(card_id::text)"]
        assert after[changed] == ["lower(card_id::text)", "card_id"]
    else:
        assert changed not in before
        assert after[changed] == ["id"]
    assert {name: columns for name, columns in after.items() if name != changed} == {
        name: columns for name, columns in before.items() if name != changed}
    client = webtest.TestApp(create_app(Config(database_url=blank_database_url, auth=False)))
    page = client.get("/gift_cards?card_id=gap*", headers={"Accept": "application/json"})
    assert sorted(card["card_id"] for card in page.json) == ["GAP-1", "gap-2"]
    assert page.headers["X-Total-Count"] == "2"
