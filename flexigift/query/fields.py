"""What a collection lets clients filter and order by: typed, declared fields.

A resource declares a mapping of property name → :class:`Filterable`; nothing
else can be filtered or ordered, so no column is exposed by accident. Each
filterable parses the text of a query parameter into its own type (a 400
naming the parameter when it cannot) and builds peewee expressions.
"""
from __future__ import annotations

import datetime
import operator
from dataclasses import dataclass
from typing import Any, Callable

import peewee

from ..db import is_postgres
from ..errors import BadRequest
from ..money import InvalidAmount, parse_cents

Expression = Any  # a peewee expression


class Filterable:
    """A property that can be filtered (and, when ``orderable``, ordered) on."""

    type_name = "text"
    supports_wildcards = False

    def __init__(self, column: peewee.Node, *, orderable: bool = True):
        self.column = column
        self.orderable = orderable

    def parse(self, text: str, parameter: str) -> Any:
        return text

    def compare(self, op: str, value: Any) -> Expression:
        column = self.column
        return {
            "eq": lambda: column == value,
            "not": lambda: (column != value) | column.is_null(),
            "lessthan": lambda: column < value,
            "lessthanorequal": lambda: column <= value,
            "greaterthan": lambda: column > value,
            "greaterthanorequal": lambda: column >= value,
        }[op]()

    def one_of(self, values: list[Any]) -> Expression:
        return self.column.in_(values)

    def between(self, low: Any, high: Any) -> Expression:
        return (self.column >= low) & (self.column <= high)

    def is_defined(self, defined: bool) -> Expression:
        return self.column.is_null(not defined)

    def order_key(self) -> peewee.Node:
        return self.column

    def _bad(self, parameter: str, text: str, expected: str) -> BadRequest:
        return BadRequest(f"Query parameter {parameter}: {text!r} is not {expected}.",
                          parameter, logref="bad_filter")


class Text(Filterable):
    """A string property; ``*`` at either end of a value is a wildcard (case-insensitive)."""

    supports_wildcards = True

    def like(self, pattern: str) -> Expression:
        """``*`` at the start or end matches anything there; ``%`` and ``_`` are literal."""
        core = pattern.strip("*")
        escaped = core.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        prefix = "%" if pattern.startswith("*") else ""
        suffix = "%" if pattern.endswith("*") else ""
        column, text = self.column, f"{prefix}{escaped}{suffix}"
        postgres = is_postgres()
        start = core if not prefix and core.isascii() else ""  # what every match starts with
        if start and postgres:
            # lower(column) LIKE 'gap%' is a range of the text_pattern_ops index on lower(column).
            return peewee.Expression(peewee.fn.lower(column), peewee.OP.LIKE, _escaped(text.lower()))
        if not text.isascii() and not postgres:
            # SQLite's LIKE folds only ASCII letters: compare both sides lowered by Python.
            column, text = peewee.fn.flexigift_lower(column), text.lower()
        like = peewee.Expression(column, peewee.OP.ILIKE, _escaped(text))
        if start:
            # SQLite: the same match, narrowed first to a range of the index on lower(column).
            low = start.lower()
            high = low[:-1] + chr(ord(low[-1]) + 1)
            folded = peewee.fn.lower(column)
            return (folded >= low) & (folded < high) & like
        return like


def _escaped(pattern: str) -> peewee.Node:
    """``pattern`` as the right-hand side of LIKE, with a backslash escaping ``%`` and ``_``."""
    return peewee.NodeList((
        peewee.Value(pattern, converter=False),
        peewee.SQL("ESCAPE"), peewee.Value("\\", converter=False),
    ))


class Integer(Filterable):
    type_name = "integer"

    def parse(self, text: str, parameter: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise self._bad(parameter, text, "a whole number") from None
        if abs(value) > 2**63 - 1:
            raise self._bad(parameter, text, "a whole number in range")
        return value


class Money(Filterable):
    """An amount of money, compared exactly (the column holds cents)."""

    type_name = "money"

    def parse(self, text: str, parameter: str) -> int:
        try:
            return parse_cents(text)
        except InvalidAmount:
            raise self._bad(parameter, text, "an amount of money like 50 or 12.50") from None


class Boolean(Filterable):
    type_name = "boolean"

    def parse(self, text: str, parameter: str) -> bool:
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise self._bad(parameter, text, "true or false")


class Date(Filterable):
    type_name = "date"

    def parse(self, text: str, parameter: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise self._bad(parameter, text, "a date like 2026-01-31") from None


class DateTime(Filterable):
    """A moment (stored as naive UTC). A bare date means that whole day (UTC)."""

    type_name = "datetime"

    def parse(self, text: str, parameter: str) -> tuple[datetime.datetime, datetime.datetime]:
        expected = "a date or an ISO 8601 time like 2026-01-31T12:00:00+00:00"
        try:
            if len(text) == 10:
                day = datetime.date.fromisoformat(text)
                start = datetime.datetime.combine(day, datetime.time())
                return start, start + datetime.timedelta(days=1)
            moment = datetime.datetime.fromisoformat(text.replace(" ", "+"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return moment, moment + datetime.timedelta(seconds=1)
        except ValueError:
            raise self._bad(parameter, text, expected) from None
        except OverflowError:  # the last moment of year 9999 has no moment after it
            raise self._bad(parameter, text, f"{expected}, before 9999-12-31T23:59:59") from None

    def compare(self, op: str, value) -> Expression:
        start, end = value
        column = self.column
        return {
            "eq": lambda: (column >= start) & (column < end),
            "not": lambda: (column < start) | (column >= end),
            "lessthan": lambda: column < start,
            "lessthanorequal": lambda: column < end,
            "greaterthan": lambda: column >= end,
            "greaterthanorequal": lambda: column >= start,
        }[op]()

    def one_of(self, values) -> Expression:
        return combined(operator.or_, [self.compare("eq", value) for value in values])

    def between(self, low, high) -> Expression:
        return (self.column >= low[0]) & (self.column < high[1])


def combined(op: Callable[[Any, Any], Any], terms: list[Any]) -> Any:
    """``terms`` joined with ``op`` (``operator.and_``, ``operator.or_``) as a balanced tree:
    hundreds of filters nest only as deep as their logarithm, where a chain would pass
    Python's recursion limit when the SQL is written, and SQLite's expression depth."""
    terms = list(terms)
    while len(terms) > 1:
        pairs = [op(terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
        terms = pairs + terms[len(pairs) * 2:]
    return terms[0]


@dataclass
class Custom(Filterable):
    """A property whose filter is not a plain column comparison (say, a computed status)."""

    build: Callable[[str, Any], Expression]
    parse_value: Callable[[str, str], Any]
    type_name: str = "text"
    orderable: bool = False
    column: Any = None

    def parse(self, text: str, parameter: str) -> Any:
        return self.parse_value(text, parameter)

    def compare(self, op: str, value: Any) -> Expression:
        if op not in ("eq", "not"):
            raise BadRequest(f"Only equality and :not apply to this property.", op, logref="bad_filter")
        return self.build(op, value)

    def one_of(self, values: list[Any]) -> Expression:
        return combined(operator.or_, [self.build("eq", value) for value in values])

    def between(self, low, high) -> Expression:
        raise BadRequest("Ranges do not apply to this property.", None, logref="bad_filter")

    def is_defined(self, defined: bool) -> Expression:
        raise BadRequest("isdefined does not apply to this property.", None, logref="bad_filter")


def derived_filters(schema, model: type[peewee.Model], **declared: Filterable | None) -> dict[str, Filterable]:
    """What a collection can be filtered and ordered by, derived from the one description
    of its resource: each field of its marshmallow ``schema`` stored in a column of
    ``model`` under the same name filters by that column, as the field's type says
    (Money, Integer, Boolean, Date, DateTime, text). ``declared`` adds what cannot be
    derived (a property read from another table, a computed one) or, set to ``None``,
    takes a field out. Objects and lists are not filterable."""
    from marshmallow import fields as ma

    from ..schemas import Money as MoneyField

    filters: dict[str, Filterable] = {}
    for name, field in schema.fields.items():
        if name in declared:
            if declared[name] is not None:
                filters[name] = declared[name]
            continue
        column = model._meta.fields.get(name)
        if column is None or isinstance(column, peewee.ForeignKeyField):
            continue
        if isinstance(field, MoneyField):
            filters[name] = Money(column)
        elif isinstance(field, ma.Boolean):
            filters[name] = Boolean(column)
        elif isinstance(field, ma.DateTime):
            filters[name] = DateTime(column)
        elif isinstance(field, ma.Date):
            filters[name] = Date(column)
        elif isinstance(field, ma.Integer):
            filters[name] = Integer(column)
        elif isinstance(field, (ma.String, ma.Raw)) and not isinstance(field, (ma.Dict, ma.List)):
            filters[name] = Text(column)
    for name, filterable in declared.items():
        if filterable is not None and name not in filters:
            filters[name] = filterable
    # What every resource has (its id and times) last, as its representation shows them.
    last = [name for name in ("id", "date_created", "date_modified") if name in filters]
    return {**{name: value for name, value in filters.items() if name not in last},
            **{name: filters[name] for name in last}}
