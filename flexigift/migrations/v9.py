"""Version 9: idempotency records expire. Frozen as shipped.

``idempotency_record.date_created`` has been there since version 1 (every row
has one, set when its key was first used), so nothing is backfilled; what
pruning the expired records needs is an index on it.
"""
from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate


def apply(db: peewee.Database) -> None:
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_index("idempotency_record", ("date_created",), False))
