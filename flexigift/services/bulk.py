"""Bulk inserts: peewee's multi-row ``INSERT`` (``insert_many``) in chunks.

Building the SQL of a 2,500-row ``insert_many`` costs peewee far more than
running it, and every full chunk has the same SQL. So peewee writes the
statement for one row, once per shape (model, columns, options, database);
its row of placeholders is repeated for the chunk's size, and the text is
cached. Each chunk then only flattens its values into the parameter list. Values must already be what the database takes
(``field.db_value``); :func:`db_row` converts a row of constants once.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable, Sequence

import peewee

from ..db import database
from ..progress import advance

#: Parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
CHUNK_PARAMETERS = 30_000


def db_row(fields: Sequence[peewee.Field], values: Sequence[Any]) -> tuple:
    """``values`` as the database stores them in ``fields``."""
    return tuple(field.db_value(value) for field, value in zip(fields, values))


def insert_rows(model: type[peewee.Model], fields: Sequence[peewee.Field], rows: Sequence[tuple], *,
                returning: Sequence[peewee.Field] = (), ignore_conflicts: bool = False) -> list[tuple]:
    """Insert ``rows`` (db values, in ``fields`` order); the ``returning`` columns of the new rows.

    With ``ignore_conflicts``, rows that would break a unique constraint are
    skipped (``ON CONFLICT DO NOTHING``) and are absent from the result.
    """
    size = max(1, CHUNK_PARAMETERS // len(fields))
    returned: list[tuple] = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        sql = _statement(model, tuple(fields), len(chunk), tuple(returning), ignore_conflicts,
                         database.obj)
        cursor = database.execute_sql(sql, _flatten(chunk))
        if returning:
            returned.extend(cursor.fetchall())
        advance(len(chunk))
    return returned


def _flatten(rows: Iterable[tuple]) -> list[Any]:
    params: list[Any] = []
    for row in rows:
        params.extend(row)
    return params


@functools.lru_cache(maxsize=64)
def _statement(model, fields: tuple, count: int, returning: tuple, ignore_conflicts: bool,
               db: peewee.Database) -> str:
    """The SQL of an ``insert_many`` of ``count`` rows (placeholders only) on ``db``.

    peewee writes the statement for one row; its row of placeholders is then
    repeated, since peewee itself takes longer to build a 2,500-row statement
    than the database takes to run it.
    """
    query = model.insert_many([(None,) * len(fields)], fields=list(fields))
    if ignore_conflicts:
        query = query.on_conflict_ignore()
    if returning:
        query = query.returning(*returning)
    sql = db.get_sql_context().sql(query).query()[0]
    row = f"({', '.join([db.param] * len(fields))})"
    head, values, tail = sql.partition(f" VALUES {row}")
    if not values:
        raise RuntimeError(f"unexpected INSERT statement from peewee: {sql}")
    return f"{head} VALUES {', '.join([row] * count)}{tail}"
