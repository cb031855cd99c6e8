"""Queries whose SQL is written once and reused: peewee builds SQL anew on every
execution, which costs more than running a primary-key lookup. A
:class:`CompiledSelect` builds its SQL once per database, with a marker where
the parameter goes, then only swaps the parameter in.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

import peewee

from ..db import database

#: A value no query of ours would compare against, marking the parameter's place.
_MARKER = -7_331_994_201


class CompiledSelect:
    """A one-parameter SELECT (``build(marker)`` returns the query), compiled lazily."""

    def __init__(self, build: Callable[[Any], peewee.ModelSelect]):
        self.build = build
        self._compiled = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _compile(self, db: peewee.Database) -> tuple[peewee.ModelSelect, str, list, int]:
        key = db
        compiled = self._compiled.get(key)
        if compiled is None:
            query = self.build(_MARKER)
            sql, params = db.get_sql_context().sql(query).query()
            compiled = (query, sql, list(params), params.index(_MARKER))
            with self._lock:
                self._compiled[key] = compiled
        return compiled

    def rows(self, value: Any) -> list[peewee.Model]:
        """The rows the query returns with ``value`` in place of the marker."""
        db = database.obj
        query, sql, params, position = self._compile(db)
        bound = list(params)
        bound[position] = value
        cursor = db.execute_sql(sql, bound)
        return list(query._get_cursor_wrapper(cursor))

    def first(self, value: Any) -> peewee.Model | None:
        rows = self.rows(value)
        return rows[0] if rows else None
