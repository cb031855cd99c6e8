"""Queries whose SQL is written once and reused: peewee builds SQL anew on every
execution, and for a select of a few joined tables that costs several times
what running it does. A :class:`TemplateSelect` builds its SQL once per
database with a hole in it; each call fills the hole with a fragment of SQL and
its parameters (a list of ids, a subquery), and peewee only turns the rows
into models.

``FLEXIGIFT_PLAIN_QUERIES=1`` turns all of it off: each call then has peewee
build the query and its SQL afresh and turn the rows into models with its own
cursor wrappers, as any peewee query does. The results are the same (see
``tests/test_compiled_fence.py``); the switch is there to prove it, by running
the test suite both ways, and as a way out should a peewee release break what
is borrowed here.
"""
from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable, Sequence

import peewee

from ..db import database
from .rows import RowPlan

#: Plain peewee queries instead of compiled ones (``FLEXIGIFT_PLAIN_QUERIES=1``).
PLAIN_QUERIES = os.environ.get("FLEXIGIFT_PLAIN_QUERIES", "").strip() == "1"

_HOLE = "__flexigift_hole__"
_UNPLANNED = object()


class _PerDatabase:
    """What a compiled query keeps per database (several apps, on several databases, share one)."""

    def __init__(self):
        self._compiled = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _compile(self, db: peewee.Database):
        compiled = self._compiled.get(db)
        if compiled is None:
            compiled = self._write(db)
            with self._lock:
                self._compiled[db] = compiled
        return compiled

    def _write(self, db: peewee.Database):
        raise NotImplementedError


class TemplateSelect(_PerDatabase):
    """A SELECT (``build(hole)`` returns the peewee query) with one hole, compiled lazily.

    ``hole`` is an SQL node to put where the per-call fragment goes:
    ``Model.id == hole`` for one value, ``Model.id.in_(hole)`` for a list or a subquery.
    """

    def __init__(self, build: Callable[[peewee.Node], peewee.Query], *, raw: bool = False):
        super().__init__()
        self.build = build
        self.raw = raw  # rows as the driver gives them: for tuples of plain ints and strings
        self._plans = weakref.WeakKeyDictionary()  # db → RowPlan, or None for peewee's wrapper

    def _write(self, db: peewee.Database) -> tuple[peewee.Query, str, str, list, list]:
        query = self.build(peewee.SQL(_HOLE))
        sql, params = db.get_sql_context().sql(query).query()
        before, _, after = sql.partition(_HOLE)
        split = before.count(db.param)  # peewee never writes a literal value into SQL
        return query, before, after, list(params[:split]), list(params[split:])

    def fill(self, fragment: str, params: Sequence[Any]) -> list:
        """The rows the query returns with ``fragment`` (holding ``params``) in the hole."""
        db = database.obj
        if PLAIN_QUERIES:
            return self._plain(db, fragment, params)
        query, before, after, params_before, params_after = self._compile(db)
        cursor = db.execute_sql(f"{before}{fragment}{after}", [*params_before, *params, *params_after])
        if self.raw:
            return cursor.fetchall()
        plan = self._plans.get(db, _UNPLANNED)
        if plan is _UNPLANNED:
            wrapper = query._get_cursor_wrapper(cursor)
            wrapper.initialize()
            plan = self._plans[db] = RowPlan.for_query(query, wrapper)
        if plan is None:
            return list(query._get_cursor_wrapper(cursor))
        return plan.build(cursor.fetchall())

    def _plain(self, db: peewee.Database, fragment: str, params: Sequence[Any]) -> list:
        """What :meth:`fill` returns, with peewee building and running the query its own way."""
        query = self.build(peewee.SQL(fragment, list(params)))
        if self.raw:
            return db.execute_sql(*db.get_sql_context().sql(query).query()).fetchall()
        return list(query)

    def fill_values(self, values: Sequence[Any]) -> list:
        """The rows with the hole holding ``values`` as a list of parameters (for ``IN``)."""
        if not values:
            return []
        return self.fill(f"({', '.join([database.obj.param] * len(values))})", values)

    def fill_query(self, query: peewee.Query) -> list:
        """The rows with the hole holding ``query`` (a subquery, built by peewee as usual)."""
        sql, params = database.obj.get_sql_context().sql(query).query()
        return self.fill(f"({sql})", params)


class CompiledSelect(TemplateSelect):
    """A one-parameter SELECT (``build(hole)`` compares a column with the hole)."""

    def rows(self, value: Any) -> list[peewee.Model]:
        """The rows the query returns with ``value`` as the parameter."""
        return self.fill(database.obj.param, [value])

    def first(self, value: Any) -> peewee.Model | None:
        rows = self.rows(value)
        return rows[0] if rows else None


class _Slot:
    """Marks where a named value goes in a compiled statement's parameters."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class CompiledStatement(_PerDatabase):
    """A statement (a write, often) whose SQL is written once per database, with named slots.

    ``build(slot)`` returns the peewee query, using ``slot("amount")`` wherever a
    value given at each call goes. Those values reach the driver as they are, as
    peewee's own fields would hand them over (ints, strings, dates, times, None).
    """

    def __init__(self, build: Callable[[Callable[[str], peewee.Node]], peewee.Query]):
        super().__init__()
        self.build = build

    def _write(self, db: peewee.Database) -> tuple[str, list[tuple[str | None, Any]]]:
        slots: dict[str, _Slot] = {}

        def slot(name: str) -> peewee.Node:
            return peewee.Value(slots.setdefault(name, _Slot(name)), converter=False)

        sql, params = db.get_sql_context().sql(self.build(slot)).query()
        return sql, [(param.name, None) if isinstance(param, _Slot) else (None, param) for param in params]

    def execute(self, **values: Any):
        """Run the statement with ``values`` in its slots; the driver's cursor."""
        db = database.obj
        if PLAIN_QUERIES:
            query = self.build(lambda name: peewee.Value(values[name], converter=False))
            return db.execute_sql(*db.get_sql_context().sql(query).query())
        sql, spec = self._compile(db)
        return db.execute_sql(sql, [values[name] if name is not None else constant for name, constant in spec])
