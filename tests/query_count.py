"""Counting the SQL statements a piece of code sends, from peewee's query log.

peewee logs every statement it executes (``execute_sql``) to the ``peewee``
logger at DEBUG level, as a ``(sql, params)`` tuple; this is what
``playhouse.test_utils.count_queries`` counts too. We keep the statements
themselves so that a failing assertion shows what was sent, not just how many.

peewee 4.5 sends ``BEGIN`` straight to a cursor and commits through the
driver, so neither is logged, while a nested ``atomic()`` sends ``SAVEPOINT``
and ``RELEASE`` through ``execute_sql`` and they are. Statements that only
manage a transaction are left out of the count, so one expected figure holds
however the code nests its transactions, on SQLite and on PostgreSQL.

Use it around every collection and zoom request, so that N+1 can never come back::

    with assert_query_count(4):
        client.get("/gift_cards?zoom=user")

    with count_queries() as counted:
        client.get("/gift_cards?limit=1")
    assert counted.count == 3, counted.report()
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

PEEWEE_LOGGER = logging.getLogger("peewee")

#: Statements that manage a transaction rather than read or write data.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")


def _sql_of(record: logging.LogRecord) -> str | None:
    """The SQL text of a peewee log record (``None`` for a record that is no statement)."""
    message = record.msg
    if isinstance(message, tuple) and message and isinstance(message[0], str):
        return message[0]
    return None


class _StatementLog(logging.Handler):
    """Collects the SQL of every statement peewee logs while it is attached."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        sql = _sql_of(record)
        if sql is not None:
            self.statements.append(sql)


class QueryCount:
    """The statements sent inside a :func:`count_queries` block (known once it ends)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def queries(self) -> list[str]:
        """The statements that read or write data (transaction control left out)."""
        return [sql for sql in self.statements
                if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)]

    @property
    def count(self) -> int:
        return len(self.queries)

    def report(self) -> str:
        """Every counted statement, numbered, for an assertion message."""
        lines = [f"{self.count} queries:"]
        lines += [f"  {number}. {sql[:300]}" for number, sql in enumerate(self.queries, 1)]
        return "\n".join(lines)


@contextmanager
def count_queries() -> Iterator[QueryCount]:
    """Record the statements peewee sends inside the block."""
    handler = _StatementLog()
    counted = QueryCount()
    level, propagate = PEEWEE_LOGGER.level, PEEWEE_LOGGER.propagate
    PEEWEE_LOGGER.setLevel(logging.DEBUG)
    PEEWEE_LOGGER.propagate = False  # keep pytest's log capture from storing every statement
    PEEWEE_LOGGER.addHandler(handler)
    try:
        yield counted
    finally:
        PEEWEE_LOGGER.removeHandler(handler)
        PEEWEE_LOGGER.setLevel(level)
        PEEWEE_LOGGER.propagate = propagate
        counted.statements = handler.statements


@contextmanager
def assert_query_count(expected: int) -> Iterator[QueryCount]:
    """Fail unless the block sends exactly ``expected`` queries (listing them if not)."""
    with count_queries() as counted:
        yield counted
    assert counted.count == expected, f"expected {expected}, got {counted.report()}"
