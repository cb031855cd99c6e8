"""Version 5: an index for every column a collection can be filtered or ordered
on that version 4 left without one. Frozen as shipped.

- Each gets a plain index on (column, id): the id is every order's tie-breaker,
  so an order, an equality or a range, and a seek from one item to the next
  (``after``/``before``) all read a range of it.
- Text columns that take a wildcard (``name=gap*``) also get one on
  ``lower(column)``, with PostgreSQL's ``text_pattern_ops`` so that
  ``lower(column) LIKE 'gap%'`` is a range of it whatever the collation.

Left out: ``issuer.product_code_restrictions`` (a list of patterns that may be
longer than a b-tree entry can hold; issuers are few).
"""
from __future__ import annotations

import peewee

from ..db import is_postgres

#: (table, column) pairs with a plain index on (column, id).
PLAIN_INDEXES = (
    ("user", "amazon_id"), ("user", "name"), ("user", "date_created"),
    ("gift_card", "initial_balance"), ("gift_card", "currency_code"), ("gift_card", "single_use"),
    ("gift_card", "rechargeable"), ("gift_card", "balance_max"), ("gift_card", "recipient_email"),
    ("gift_card", "reference"),
    ("product", "name"), ("product", "date_created"),
    ("issuer", "currency_code"), ("issuer", "expires_after"), ("issuer", "date_created"),
    ("transaction", "kind"), ("transaction", "amount"), ("transaction", "balance_after"),
    ("transaction", "order_reference"), ("transaction", "idempotency_key"), ("transaction", "actor_name"),
    ("transaction", "actor_role"),
    ("change", "resource_id"), ("change", "action"), ("change", "actor_name"), ("change", "actor_role"),
)
#: (table, column) pairs of text whose lower() is indexed for prefix searches.
LOWER_INDEXES = (
    ("user", "amazon_id"), ("user", "name"), ("gift_card", "currency_code"), ("gift_card", "recipient_email"),
    ("gift_card", "reference"), ("product", "name"), ("issuer", "name"), ("issuer", "currency_code"),
    ("transaction", "kind"), ("transaction", "order_reference"), ("transaction", "idempotency_key"),
    ("transaction", "actor_name"), ("transaction", "actor_role"),
    ("change", "action"), ("change", "actor_name"), ("change", "actor_role"),
)


def apply(db: peewee.Database) -> None:
    ops = " text_pattern_ops" if is_postgres(db) else ""
    for table, column in PLAIN_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_id" ON "{table}" ("{column}", "id")')
    for table, column in LOWER_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_lower" '
                       f'ON "{table}" (lower("{column}"){ops})')
