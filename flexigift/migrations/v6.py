"""Version 6: a ledger entry's ``reason`` (an admin's adjustment says why it was made).
Frozen as shipped: plain SQL on the ``transaction`` table as version 3 left it.
"""
from __future__ import annotations

import peewee

#: The longest reason an adjustment may give.
REASON_LENGTH = 200


def apply(db: peewee.Database) -> None:
    db.execute_sql(f'ALTER TABLE "transaction" ADD COLUMN "reason" VARCHAR({REASON_LENGTH})')
