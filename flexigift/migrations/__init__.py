"""Schema set-up and migrations: every schema change ships as a numbered step.

Each step works on frozen definitions of the tables as that version shipped
them (``v1``, ``v3``…), never on today's models, so a database made by any
released version migrates to the same schema a new one starts with.

``migrate()`` applies, in one transaction each, the steps a database has not
had yet, and records them in ``schema_version``. It is safe to run on every
start and from several processes.
"""
from __future__ import annotations

from typing import Callable

import peewee

from ..db import database, is_postgres, models_bound_to
from ..models import SchemaVersion
from . import v1, v3, v4, v5, v6, v7, v8, v9, v10

#: How many counter rows a table has on PostgreSQL (writers pick one by connection).
COUNT_SHARDS = 16
#: The key of the advisory lock that lets one process at a time migrate a PostgreSQL database.
MIGRATION_LOCK = 0x666C6578  # "flex"


def _initial_schema(db: peewee.Database) -> None:
    db.create_tables(v1.MODELS)


_COUNT_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION flexigift_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_count AS counted (table_name, shard, rows)
    SELECT TG_TABLE_NAME, mod(pg_backend_pid(), {COUNT_SHARDS}), count(*) FROM inserted HAVING count(*) > 0
    ON CONFLICT (table_name, shard) DO UPDATE SET rows = counted.rows + EXCLUDED.rows;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION flexigift_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_count AS counted (table_name, shard, rows)
    SELECT TG_TABLE_NAME, mod(pg_backend_pid(), {COUNT_SHARDS}), -count(*) FROM deleted HAVING count(*) > 0
    ON CONFLICT (table_name, shard) DO UPDATE SET rows = counted.rows + EXCLUDED.rows;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION flexigift_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM row_count WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""

_COUNT_TRIGGERS = """
CREATE TRIGGER {table}_count_inserted AFTER INSERT ON "{table}"
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION flexigift_count_inserted();
CREATE TRIGGER {table}_count_deleted AFTER DELETE ON "{table}"
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION flexigift_count_deleted();
CREATE TRIGGER {table}_count_truncated AFTER TRUNCATE ON "{table}"
    FOR EACH STATEMENT EXECUTE FUNCTION flexigift_count_truncated();
"""


def _row_counts(db: peewee.Database) -> None:
    """PostgreSQL: counters kept by triggers, so a whole collection's total costs no scan.

    The triggers go on first: each takes a lock that holds off writers until
    this step commits, so the counts taken next are exact. SQLite needs none
    of it: it counts a table from its b-tree without reading the rows.
    """
    if not is_postgres(db):
        return
    db.create_tables([_RowCountV2])
    db.execute_sql(_COUNT_FUNCTIONS)
    for table in _COUNTED_AT_V2:
        db.execute_sql(_COUNT_TRIGGERS.format(table=table))
    for table in _COUNTED_AT_V2:
        db.execute_sql('INSERT INTO row_count (table_name, shard, rows) '
                       f'SELECT %s, 0, count(*) FROM "{table}"', (table,))


#: The tables step 2 counted, as it shipped (frozen: never today's models).
_COUNTED_AT_V2 = ("issuer", "user", "gift_card", "product", "transaction")


class _RowCountV2(peewee.Model):
    """The row counters as step 2 made them (frozen)."""

    table_name = peewee.CharField(max_length=63)
    shard = peewee.SmallIntegerField()
    rows = peewee.BigIntegerField()

    class Meta:
        database = database
        table_name = "row_count"
        primary_key = peewee.CompositeKey("table_name", "shard")


#: (version, description, step). Append; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[peewee.Database], None]]] = [
    (1, "issuers, users, gift cards, products and the ledger", _initial_schema),
    (2, "row counters kept by triggers (PostgreSQL)", _row_counts),
    (3, "API tokens, card grants, rate counters, server secrets, the audit trail and ledger actors",
     v3.apply),
    (4, "indexes for prefix filters and orders; row counters on SQLite too", v4.apply),
    (5, "an index for every filterable and orderable column", v5.apply),
    (6, "the reason of a ledger entry (adjustments)", v6.apply),
    (7, "authorization holds and orders paid by several cards", v7.apply),
    (8, "the event log, webhook subscriptions and their deliveries", v8.apply),
    (9, "an index on when each idempotency key was first used (expiry and pruning)", v9.apply),
    (10, "the index on lower(card_id) also holds card_id, so a prefix is counted from it alone (PostgreSQL); "
         "an index of the card ids alone, for deep pages (SQLite)", v10.apply),
]


def applied_versions(db: peewee.Database) -> set[int]:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return set()
    return {row.version for row in SchemaVersion.select()}


def pending(db: peewee.Database) -> list[tuple[int, str]]:
    """(version, description) of each step ``db`` has not had yet, in the order they would run."""
    with models_bound_to(db), db.connection_context():
        done = applied_versions(db)
    return [(version, description) for version, description, _ in MIGRATIONS if version not in done]


def migrate(db: peewee.Database) -> list[int]:
    """Bring the schema up to date; the versions applied now.

    ``db`` need not be the database the models are bound to: each step's models
    (frozen ones included) work on ``db`` while it migrates.
    """
    with models_bound_to(db), db.connection_context():
        if not is_postgres(db):
            return _apply(db)  # SQLite: each step's BEGIN IMMEDIATE keeps other processes out
        db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            return _apply(db)
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _apply(db: peewee.Database) -> list[int]:
    db.create_tables([SchemaVersion], safe=True)
    done = applied_versions(db)
    applied = []
    for version, _, step in MIGRATIONS:
        if version in done:
            continue
        with db.atomic():
            if SchemaVersion.get_or_none(SchemaVersion.version == version):
                continue
            step(db)
            SchemaVersion.create(version=version)
        applied.append(version)
    return applied
