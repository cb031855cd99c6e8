"""Schema set-up and migrations: every schema change ships as a numbered step.

``migrate()`` applies, in one transaction each, the steps a database has not
had yet, and records them in ``schema_version``. It is safe to run on every
start and from several processes.
"""
from __future__ import annotations

from typing import Callable

import peewee

from .models import MODELS, SchemaVersion


def _initial_schema(db: peewee.Database) -> None:
    db.create_tables(MODELS)


#: (version, description, step). Append; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[peewee.Database], None]]] = [
    (1, "issuers, users, gift cards, products and the ledger", _initial_schema),
]


def applied_versions(db: peewee.Database) -> set[int]:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return set()
    return {row.version for row in SchemaVersion.select()}


def migrate(db: peewee.Database) -> list[int]:
    """Bring the schema up to date; the versions applied now."""
    with db.connection_context():
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
