"""Filtered selects whose SQL is written once per shape of their condition.

The filters of a collection page change from one request to the next, but few
change its SQL: ``card_id=gap*`` and ``card_id=kohls*`` differ only in their
parameters. peewee writes the whole SQL of every query anew, which for the
count and the page of a filtered collection costs several times what running
them does. Here each query is written once per *shape* of its condition, and a
request has peewee write only the condition itself: a few nodes, whose SQL
names the shape and whose parameters are the request's.

A shape is the condition's SQL on its own and the tables it names, in the
order it names them (two conditions that read alike but name different tables
have different shapes); with the query's key (what the query is for, its order,
its joins) it decides the SQL of the whole query. The whole query's parameters
are then the condition's, wherever the condition stands in it, the per-call
values (a limit, an offset, the count's cap) in their slots, and the constants
peewee wrote the first time.

Clients can ask for any number of shapes (filters combine, ``in`` lists have
any length), so an endpoint keeps only the ``MAX_SHAPES`` it used last, per
database. ``FLEXIGIFT_PLAIN_QUERIES=1`` (:mod:`.compiled`) has peewee write
every query in full instead, as it does for any query.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

import peewee

from ..db import database
from . import compiled

#: Shapes kept per endpoint and database (the least recently used go first).
MAX_SHAPES = 256

Build = Callable[[Any, Callable[[str], Any]], peewee.Query]


class Condition:
    """A request's WHERE condition (or None), with its shape and parameters as peewee
    writes it on its own (only worked out when a compiled query asks for them)."""

    __slots__ = ("node", "_written")

    def __init__(self, node: Any):
        self.node = node
        self._written: tuple[Hashable, list] | None = None

    def written(self) -> tuple[Hashable, list]:
        """(shape, parameters): the condition's SQL and the tables it names; its values."""
        if self._written is None:
            if self.node is None:
                self._written = (None, [])
            else:
                context = database.obj.get_sql_context()
                names = context.alias_manager = _NamedTables()
                sql, params = context.sql(self.node).query()
                self._written = ((sql, tuple(names.named)), params)
        return self._written


class _NamedTables(peewee.AliasManager):
    """peewee's aliases, noting each table (or alias of one) as it is first named."""

    __slots__ = ("named",)

    def __init__(self):
        self.named: list[Any] = []
        super().__init__()

    def __setitem__(self, source, alias):
        if source not in self.mapping:
            self.named.append(source)
        super().__setitem__(source, alias)


class _Where(peewee.Expression):
    """The condition, in a query written once: notes where its parameters land.

    It is an expression, flat when the condition is, so that peewee writes it as it
    writes the condition (a list in parentheses holding one expression makes it flat).
    """

    def __init__(self, node: Any, spans: list[tuple[int, int]]):
        super().__init__(node, "", None, flat=not isinstance(node, peewee.Expression) or node.flat)
        self.node = node
        self.spans = spans

    def __sql__(self, context):
        node = self.node
        if self.flat and isinstance(node, peewee.Expression) and not node.flat:
            node = node.clone()
            node.flat = True
        start = len(context._values)
        context.sql(node)
        self.spans.append((start, len(context._values)))
        return context


class _Slot:
    """Where a per-call value goes in a query's parameters."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


#: How one parameter of a written query is found at each call.
_CONSTANT, _CONDITION, _VALUE = 0, 1, 2


class ShapedSelects:
    """An endpoint's filtered queries, written once per (key, shape of the condition)."""

    def __init__(self, size: int = MAX_SHAPES):
        self.size = size
        #: Queries peewee wrote in full because their shape could not be reused (a node
        #: peewee writes otherwise when it stands in a query than on its own).
        self.refused = 0
        self._written = weakref.WeakKeyDictionary()  # database → OrderedDict of (key, shape) → SQL
        self._lock = threading.Lock()

    def sql(self, key: Hashable, build: Build, condition: Condition, **values: Any) -> tuple[str, list]:
        """The SQL and parameters of ``build(where, slot)`` for this call.

        ``build`` returns the peewee query with ``where`` where the condition goes and
        ``slot(name)`` wherever a value of ``values`` goes; ``key`` names everything else
        the query depends on (what it is for, its order, its joins), as a bounded set of
        values does.
        """
        db = database.obj
        if compiled.PLAIN_QUERIES:
            return db.get_sql_context().sql(build(condition.node, values.__getitem__)).query()
        shape, params = condition.written()
        cache = self._cache(db)
        written = cache.get((key, shape))
        if written is None:
            plain = db.get_sql_context().sql(build(condition.node, values.__getitem__)).query()
            written = self._write(db, build, condition.node, params, values, plain)
            if written is None:  # not a shape this can reuse: peewee writes it in full each time
                self.refused += 1
                return plain
            with self._lock:
                cache[(key, shape)] = written
                while len(cache) > self.size:
                    cache.popitem(last=False)
        else:
            with self._lock:
                if (key, shape) in cache:
                    cache.move_to_end((key, shape))
        return _filled(written, params, values)

    def kept(self) -> int:
        """How many written queries are kept, over every database."""
        with self._lock:
            return sum(len(cache) for cache in self._written.values())

    def _cache(self, db: peewee.Database) -> OrderedDict:
        cache = self._written.get(db)
        if cache is None:
            with self._lock:
                cache = self._written.setdefault(db, OrderedDict())
        return cache

    @staticmethod
    def _write(db: peewee.Database, build: Build, node: Any, condition_params: list,
               values: dict[str, Any], plain: tuple[str, list]) -> tuple[str, list] | None:
        """The query's SQL, and where each of its parameters comes from; None unless that
        gives this call's query exactly as peewee writes it (``plain``)."""
        spans: list[tuple[int, int]] = []
        where = _Where(node, spans) if node is not None else None
        sql, params = db.get_sql_context().sql(build(where, lambda name: peewee.Value(
            _Slot(name), converter=False))).query()
        if any(end - start != len(condition_params) for start, end in spans):
            return None
        spec = []
        for index, param in enumerate(params):
            span = next((start for start, end in spans if start <= index < end), None)
            if span is not None:
                spec.append((_CONDITION, index - span))
            elif isinstance(param, _Slot):
                spec.append((_VALUE, param.name))
            else:
                spec.append((_CONSTANT, param))
        written = (sql, spec)
        if _filled(written, condition_params, values) != (plain[0], list(plain[1])):
            return None
        return written


def _filled(written: tuple[str, list], params: list, values: dict[str, Any]) -> tuple[str, list]:
    """A written query's SQL, and its parameters for this call."""
    sql, spec = written
    return sql, [params[at] if how == _CONDITION else values[at] if how == _VALUE else at for how, at in spec]
