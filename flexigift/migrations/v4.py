"""Version 4: indexes for the filters and orders that scale, and row counters on
SQLite too. Frozen as shipped.

- A wildcard at the end of a text filter (``card_id=gap*``) is a range of an
  index on the case-folded column: ``lower(card_id)``, with PostgreSQL's
  ``text_pattern_ops`` so that ``LIKE 'gap%'`` can use it whatever the
  database's collation.
- Orders and ranges on a card's balance, expiry date and creation time, a
  product's price and a user's email read an index instead of every row.
- SQLite keeps each collection's row count in ``row_count`` with triggers, as
  PostgreSQL has since version 2, so a whole collection's total reads one row.
"""
from __future__ import annotations

import peewee

from ..db import database, is_postgres


class RowCount(peewee.Model):
    table_name = peewee.CharField(max_length=63)
    shard = peewee.SmallIntegerField()
    rows = peewee.BigIntegerField()

    class Meta:
        database = database
        table_name = "row_count"
        primary_key = peewee.CompositeKey("table_name", "shard")


#: (table, column) pairs whose lower() is indexed for prefix searches.
LOWER_INDEXES = (("gift_card", "card_id"), ("user", "user_id"), ("user", "email"), ("product", "product_id"))
#: (table, column) pairs with a plain index.
PLAIN_INDEXES = (("gift_card", "balance"), ("gift_card", "expiry_date"), ("gift_card", "date_created"),
                 ("product", "price"))
#: The tables whose rows the counters count (the collections' tables).
COUNTED = ("issuer", "user", "gift_card", "product", "transaction")


def lower_index_sql(table: str, column: str, postgres: bool) -> str:
    ops = " text_pattern_ops" if postgres else ""
    return (f'CREATE INDEX IF NOT EXISTS "{table}_{column}_lower" '
            f'ON "{table}" (lower("{column}"){ops})')


def plain_index_sql(table: str, column: str) -> str:
    return f'CREATE INDEX IF NOT EXISTS "{table}_{column}" ON "{table}" ("{column}")'


_SQLITE_COUNTERS = """
CREATE TRIGGER "{table}_count_inserted" AFTER INSERT ON "{table}" BEGIN
    UPDATE row_count SET rows = rows + 1 WHERE table_name = '{table}' AND shard = 0;
END;
CREATE TRIGGER "{table}_count_deleted" AFTER DELETE ON "{table}" BEGIN
    UPDATE row_count SET rows = rows - 1 WHERE table_name = '{table}' AND shard = 0;
END;
"""


def apply(db: peewee.Database) -> None:
    postgres = is_postgres(db)
    for table, column in LOWER_INDEXES:
        db.execute_sql(lower_index_sql(table, column, postgres))
    for table, column in PLAIN_INDEXES:
        db.execute_sql(plain_index_sql(table, column))
    if postgres:
        return
    db.create_tables([RowCount], safe=True)
    for table in COUNTED:
        for statement in _SQLITE_COUNTERS.format(table=table).split("END;"):
            if statement.strip():
                db.execute_sql(statement + "END;")
        db.execute_sql(f'INSERT INTO row_count (table_name, shard, rows) SELECT ?, 0, count(*) FROM "{table}"',
                       (table,))
