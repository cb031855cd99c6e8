"""The plans of the statements a request sends to read gift cards.

PostgreSQL plans them with sequential scans priced out: on a test's small table it
would rather read every row, so its plan shows whether an index can serve the query
at all. The table is vacuumed and analysed first, as autovacuum keeps a live one: the
plan then does not hang on what earlier tests left (rows deleted, statistics of
another test's data). SQLite's plan is its ``EXPLAIN QUERY PLAN``, one detail per line.
"""
from __future__ import annotations

import logging

from flexigift.db import is_postgres
from hypermedia import HAL

#: The whole table's total, read from its row counter rather than from the cards.
_ROW_COUNTER = 'row_count" AS "t1"'


class _Statements(logging.Handler):
    """Collects the ``(sql, params)`` of every statement peewee logs while attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append(record.msg)


def gift_card_plans(client, url: str) -> list[tuple[str, str]]:
    """(SQL, plan) of each SELECT of gift cards that a GET of ``url`` sends, in order."""
    logger, handler = logging.getLogger("peewee"), _Statements()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        client.get(url, headers={"Accept": HAL})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    db = client.app.extensions["flexigift_db"]
    postgres = is_postgres(db)
    plans = []
    with db.connection_context():
        if postgres:
            db.execute_sql('VACUUM ANALYZE "gift_card"')
            db.execute_sql("SET enable_seqscan = off")
        try:
            for sql, params in handler.seen:
                if sql.lstrip().upper().startswith("SELECT") and '"gift_card"' in sql and _ROW_COUNTER not in sql:
                    rows = db.execute_sql(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, params)
                    plans.append((sql, "\n".join(str(row[0] if postgres else row[-1]) for row in rows)))
        finally:
            if postgres:
                db.execute_sql("RESET enable_seqscan")
    return plans
