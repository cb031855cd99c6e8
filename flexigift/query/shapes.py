"""Filtered selects whose SQL is written once per shape of their condition.

The filters of a collection page change from one request to the next, but few
change its SQL: ``card_id=gap*`` and ``card_id=kohls*`` differ only in their
parameters. peewee writes the whole SQL of every query anew, which for the
count and the page of a filtered collection costs several times what running
them does. Here each query is written once per *shape* of its condition, and a
request only reads its condition: the parameters and an outline of the SQL,
straight from the nodes filters make (:class:`_Outline`, checked against
peewee's writing the first time each outline is seen), or, for any other node,
as peewee writes the condition on its own.

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
every query in full instead, as it does for any query. A written query is kept
only when it gives the call's query exactly as peewee writes it.
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
            self._written = (None, []) if self.node is None else _read(database.obj, self.node)
        return self._written


def _by_peewee(db: peewee.Database, node: Any) -> tuple[Hashable, list]:
    """The shape and parameters of ``node``, as peewee writes it on its own."""
    context = db.get_sql_context()
    names = context.alias_manager = _NamedTables()
    sql, params = context.sql(node).query()
    return (sql, tuple(names.named)), params


#: Per database: the outline of a condition (:class:`_Outline`) → its shape as peewee writes
#: it, or None where the outline's parameters were not peewee's (then peewee writes each one).
_OUTLINED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_OUTLINED_LOCK = threading.Lock()
MAX_OUTLINES = 1024
_UNSEEN = object()


def _read(db: peewee.Database, node: Any) -> tuple[Hashable, list]:
    """The shape and parameters of a condition: read from its nodes when they are the plain
    comparisons filters make, and checked against peewee's writing the first time each
    outline is seen; written by peewee otherwise."""
    outline = _Outline.of(node)
    if outline is None:
        return _by_peewee(db, node)
    known = _OUTLINED.get(db)
    if known is None:
        with _OUTLINED_LOCK:
            known = _OUTLINED.setdefault(db, OrderedDict())
    key, params = outline
    shape = known.get(key, _UNSEEN)
    if shape is not _UNSEEN:
        return (shape, params) if shape is not None else _by_peewee(db, node)
    shape, written = _by_peewee(db, node)
    with _OUTLINED_LOCK:
        known[key] = shape if written == params else None
        while len(known) > MAX_OUTLINES:
            known.popitem(last=False)
    return shape, written


class _Outline:
    """Reads a condition's parameters as peewee would write them, and an outline of its SQL
    (every node's kind, operator, field, function and length: what makes peewee write
    different SQL), for the nodes filters are made of; None for any other node."""

    __slots__ = ("key", "params")

    def __init__(self):
        self.key: list[Any] = []
        self.params: list[Any] = []

    @classmethod
    def of(cls, node: Any) -> tuple[tuple, list] | None:
        outline = cls()
        try:
            outline.read(node, None)
        except _Unread:
            return None
        return tuple(outline.key), outline.params

    def read(self, node: Any, converter: Callable[[Any], Any] | None) -> None:
        kind = type(node)
        if kind is peewee.Expression:
            self.expression(node)
        elif isinstance(node, peewee.Field) and not isinstance(node, peewee.FieldAlias):
            self.key.append(("field", id(node)))
        elif kind is peewee.Value:
            self.value(node, converter)
        elif kind is peewee.NodeList:
            self.key.append(("list", node.glue, node.parens, len(node.nodes)))
            for child in node.nodes:
                self.read(child, converter)
        elif kind is peewee.SQL:
            self.key.append(("sql", node.sql))
            self.params.extend(node.params or ())
        elif kind is peewee.Function and node._filter is None and not node._order_by:
            self.key.append(("function", node.name, len(node.arguments)))
            for argument in node.arguments:  # (peewee takes a plain argument as it is)
                plain = not isinstance(argument, peewee.Node)
                self.read(peewee.Value(argument, False) if plain else argument, converter)
        elif kind is peewee.Negated:
            self.key.append(("not",))
            self.read(node.node, converter)
        elif isinstance(node, peewee.Node) or peewee.is_model(node):
            raise _Unread
        else:  # a plain value, as peewee wraps it
            self.value(peewee.Value(node), converter)

    def expression(self, node: peewee.Expression) -> None:
        lhs = node.lhs
        unwrapped = lhs.unwrap() if isinstance(lhs, peewee.WrappedNode) else lhs
        converter = unwrapped.db_value if isinstance(unwrapped, peewee.Field) and lhs._coerce else None
        rhs, op = node.rhs, node.op
        self.key.append(("expression", op, node.flat))
        listed = (isinstance(rhs, (list, tuple)) and rhs
                  or isinstance(rhs, peewee.Value) and rhs.multi and rhs.values)
        if op in (peewee.OP.IN, peewee.OP.NOT_IN) and not listed:
            raise _Unread  # peewee writes an empty list its own way, and a subquery is no plain value
        self.read(lhs, converter)
        if rhs is None and op in (peewee.OP.IS, peewee.OP.IS_NOT):
            self.key.append(("null",))
        else:
            self.read(rhs, converter)

    def value(self, node: peewee.Value, converter: Callable[[Any], Any] | None) -> None:
        if node.multi:
            self.key.append(("values", len(node.values)))
            for value in node.values:
                self.read(value, converter)
            return
        value = node.value
        if node.converter:
            value = node.converter(value)
        elif node.converter is None and converter:
            value = converter(value)
        if isinstance(value, peewee.Node) or peewee.is_model(value):
            raise _Unread
        self.key.append(("value",))
        self.params.append(value)


class _Unread(Exception):
    """A node :class:`_Outline` does not read (peewee writes the condition instead)."""


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
#: Kept for a query whose shape cannot be reused, so peewee writes it at once next time.
_REFUSED = ("refused", [])


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
            if written is _REFUSED:
                self.refused += 1
            with self._lock:
                cache[(key, shape)] = written
                while len(cache) > self.size:
                    cache.popitem(last=False)
            return plain
        with self._lock:
            if (key, shape) in cache:
                cache.move_to_end((key, shape))
        if written is _REFUSED:  # not a shape this can reuse: peewee writes it in full each time
            return db.get_sql_context().sql(build(condition.node, values.__getitem__)).query()
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
        """The query's SQL, and where each of its parameters comes from; refused unless
        that gives this call's query exactly as peewee writes it (``plain``)."""
        spans: list[tuple[int, int]] = []
        where = _Where(node, spans) if node is not None else None
        sql, params = db.get_sql_context().sql(build(where, lambda name: peewee.Value(
            _Slot(name), converter=False))).query()
        if any(end - start != len(condition_params) for start, end in spans):
            return _REFUSED
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
            return _REFUSED
        return written


def _filled(written: tuple[str, list], params: list, values: dict[str, Any]) -> tuple[str, list]:
    """A written query's SQL, and its parameters for this call."""
    sql, spec = written
    return sql, [params[at] if how == _CONDITION else values[at] if how == _VALUE else at for how, at in spec]
