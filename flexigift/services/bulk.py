"""Bulk inserts: peewee's multi-row ``INSERT`` (``insert_many``) in chunks.

Building the SQL of a 2,500-row ``insert_many`` costs peewee far more than
running it, and every full chunk has the same SQL. So peewee writes the
statement for one row, once per shape (model, columns, options, database);
its row of placeholders is repeated for the chunk's size, and the text is
cached. Each chunk then only flattens its values into the parameter list. Values must already be what the database takes
(``field.db_value``); :func:`db_row` converts a row of constants once.

On PostgreSQL, from :data:`COPY_FROM` rows on, the rows go by ``COPY``
instead (psycopg's ``cursor.copy``): a statement of 30,000 parameters costs
psycopg more to prepare than the server takes to run it. Rows that need
``RETURNING`` or ``ON CONFLICT DO NOTHING`` are copied into a temporary table
(dropped at commit) and moved from there by one ``INSERT … SELECT``, in order.
Either way the rows are written in the caller's transaction, all or none.
"""
from __future__ import annotations

import functools
import itertools
import logging
from typing import Any, Iterable, Sequence

import peewee

from ..db import database
from ..progress import advance

#: Parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
CHUNK_PARAMETERS = 30_000
#: Rows from which PostgreSQL gets them by ``COPY``.
COPY_FROM = 1_000
#: Rows copied between two reports of progress.
COPY_STEP = 5_000

_logger = logging.getLogger("peewee")  # where peewee logs the statements it runs
_stages = itertools.count(1)


def db_row(fields: Sequence[peewee.Field], values: Sequence[Any]) -> tuple:
    """``values`` as the database stores them in ``fields``."""
    return tuple(field.db_value(value) for field, value in zip(fields, values))


def insert_rows(model: type[peewee.Model], fields: Sequence[peewee.Field], rows: Sequence[tuple], *,
                returning: Sequence[peewee.Field] = (), ignore_conflicts: bool = False) -> list[tuple]:
    """Insert ``rows`` (db values, in ``fields`` order); the ``returning`` columns of the new rows.

    With ``ignore_conflicts``, rows that would break a unique constraint are
    skipped (``ON CONFLICT DO NOTHING``) and are absent from the result.
    """
    if len(rows) >= COPY_FROM and isinstance(database.obj, peewee.PostgresqlDatabase):
        return _copy_rows(model, fields, rows, returning, ignore_conflicts)
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


def _copy_rows(model: type[peewee.Model], fields: Sequence[peewee.Field], rows: Sequence[tuple],
               returning: Sequence[peewee.Field], ignore_conflicts: bool) -> list[tuple]:
    """:func:`insert_rows` on PostgreSQL by ``COPY`` (straight into the table when nothing
    is returned and no conflict is skipped; else through a temporary table)."""
    table = model._meta.table_name
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    with database.atomic():  # a temporary table dropped at commit needs a transaction
        if not returning and not ignore_conflicts:
            _copy(f'COPY "{table}" ({columns}) FROM STDIN', rows)
            return []
        stage = f"flexigift_stage_{next(_stages)}"
        _execute(f'CREATE TEMPORARY TABLE "{stage}" ON COMMIT DROP AS '
                 f'SELECT {columns}, 0::bigint AS "flexigift_row" FROM "{table}" WITH NO DATA')
        _copy(f'COPY "{stage}" ({columns}, "flexigift_row") FROM STDIN',
              ((*row, number) for number, row in enumerate(rows)))
        conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        returned = ", ".join(f'"{field.column_name}"' for field in returning)
        cursor = _execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{stage}" '
                          f'ORDER BY "flexigift_row"{conflicts}' + (f" RETURNING {returned}" if returning else ""))
        return cursor.fetchall() if returning else []


def _execute(sql: str):
    return database.execute_sql(sql)


def _copy(sql: str, rows: Iterable[tuple]) -> None:
    """``COPY … FROM STDIN`` of ``rows``, reporting progress as it goes."""
    _logger.debug((sql, None))
    rows = iter(rows)
    with peewee.__exception_wrapper__, database.cursor().copy(sql) as copy:
        while True:
            step = list(itertools.islice(rows, COPY_STEP))
            if not step:
                break
            for row in step:
                copy.write_row(row)
            advance(len(step))


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
