"""What a collection lets clients filter and order by: typed, declared fields.

A resource declares a mapping of property name → :class:`Filterable`; nothing
else can be filtered or ordered, so no column is exposed by accident. Each
filterable parses the text of a query parameter into its own type (a 400
naming the parameter when it cannot) and builds peewee expressions.
"""
from __future__ import annotations

import datetime
import decimal
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

import peewee

from ..db import is_postgres
from ..errors import BadRequest
from ..currencies import ISO_4217, MAX_DECIMALS, decimals_of
from ..models import Issuer
from ..money import MAX_CENTS
from .compiled import TemplateSelect

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
            # SQLite: a range of the index on lower(column), which is the match itself (lower()
            # and LIKE both fold ASCII alone, and ``start`` is all there is before the ``%``), so
            # a count needs no other condition. (SQLite 3.40 still reads each match's row: its
            # plan uses the expression index, but not as a covering one.)
            low = start.lower()
            high = low[:-1] + chr(ord(low[-1]) + 1)
            folded = peewee.fn.lower(column)
            return (folded >= low) & (folded < high)
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
    """An amount of money in the row's currency, compared exactly.

    The column holds minor units, so ``balance:greaterthan=50`` means 50 yen
    (50 units) on a JPY card, 50.00 dollars (5000) on a USD one and 50.000
    dinars (50000) on a BHD one. The value is parsed as a decimal and turned
    into a bound per group of currencies with the same minor unit; only the
    groups some issuer uses take part (read once per request), so where they
    all share one minor unit the condition is a plain comparison of the
    column, as an index serves it.
    """

    type_name = "money"

    def __init__(self, column: peewee.Node, *, orderable: bool = True):
        super().__init__(column, orderable=orderable)
        self._currency: peewee.Node | None = None

    def parse(self, text: str, parameter: str) -> decimal.Decimal:
        if not _FILTER_AMOUNT.fullmatch(text):
            raise self._bad(parameter, text, f"an amount of money like 50 or 12.50 (at most "
                                             f"{MAX_DECIMALS} decimals)")
        value = decimal.Decimal(text)
        if abs(value) > MAX_CENTS:
            raise self._bad(parameter, text, "an amount of money in range")
        return value

    @property
    def currency(self) -> peewee.Node:
        """SQL: the currency of the row the column belongs to (its own column, or the
        one of the row a foreign key names: a product's issuer, an entry's card)."""
        if self._currency is None:
            model = self.column.model
            if "currency_code" in model._meta.fields:
                self._currency = model._meta.fields["currency_code"]
            else:
                keys = [field for field in model._meta.sorted_fields
                        if isinstance(field, peewee.ForeignKeyField)
                        and "currency_code" in field.rel_model._meta.fields]
                key = next((field for field in keys if field.name in ("gift_card", "issuer")), keys[0])
                other = key.rel_model.alias()
                self._currency = peewee.fn.COALESCE(
                    other.select(other.currency_code).where(other.id == key), "")
        return self._currency

    def _per_currency(self, condition: Callable[[int], Expression | bool]) -> Expression:
        """``condition(scale)`` of the column for the rows whose currency has ``scale`` decimals."""
        groups = currency_groups()
        if len(groups) == 1:
            [decimals] = groups
            return _sql(condition(decimals))
        terms = []
        for decimals in sorted(groups):
            term = condition(decimals)
            if term is False:
                continue
            codes = codes_with_decimals(decimals)
            in_group = (~self.currency.in_(NOT_TWO_DECIMALS) if decimals == 2
                        else self.currency.in_(codes))
            terms.append(in_group if term is True else in_group & term)
        return combined(operator.or_, terms) if terms else _sql(False)

    def compare(self, op: str, value: decimal.Decimal) -> Expression:
        column = self.column

        def condition(decimals: int) -> Expression | bool:
            bound = value.scaleb(decimals)
            whole = bound == bound.to_integral_value()
            # (stored amounts lie within ±MAX_CENTS: a bound beyond is the same as one just past it)
            low, high = (max(-MAX_CENTS - 1, min(MAX_CENTS + 1, int(bound.to_integral_value(rounding))))
                         for rounding in (decimal.ROUND_FLOOR, decimal.ROUND_CEILING))
            if op == "eq":
                return column == low if whole else False
            if op == "not":
                return (column != low) | column.is_null() if whole else True
            return {"lessthan": lambda: column < high, "lessthanorequal": lambda: column <= low,
                    "greaterthan": lambda: column > low, "greaterthanorequal": lambda: column >= high}[op]()
        return self._per_currency(condition)

    def one_of(self, values: list[decimal.Decimal]) -> Expression:
        return combined(operator.or_, [self.compare("eq", value) for value in values])

    def between(self, low: decimal.Decimal, high: decimal.Decimal) -> Expression:
        return self.compare("greaterthanorequal", low) & self.compare("lessthanorequal", high)


_FILTER_AMOUNT = re.compile(rf"-?[0-9]{{1,20}}(\.[0-9]{{1,{MAX_DECIMALS}}})?")
#: The currencies whose minor unit is not the hundredth (the rest have two decimals).
NOT_TWO_DECIMALS = tuple(sorted(code for code in ISO_4217 if decimals_of(code) != 2))


def codes_with_decimals(decimals: int) -> tuple[str, ...]:
    return tuple(sorted(code for code in ISO_4217 if decimals_of(code) == decimals))


#: The currencies issuers use: the same SQL on every request, so it is written once.
_ISSUERS_CURRENCIES = TemplateSelect(lambda hole: Issuer.select(Issuer.currency_code).distinct(), raw=True)


def currency_groups() -> set[int]:
    """The minor units (decimals) of the currencies issuers use, read once per request
    (2 when there is no issuer yet)."""
    from flask import g, has_request_context

    if has_request_context() and "flexigift_currency_groups" in g:
        return g.flexigift_currency_groups
    groups = {decimals_of(code) for code, in _ISSUERS_CURRENCIES.fill("", [])} or {2}
    if has_request_context():
        g.flexigift_currency_groups = groups
    return groups


def _sql(condition: Expression | bool) -> Expression:
    if condition is True:
        return peewee.SQL("1 = 1")
    if condition is False:
        return peewee.SQL("1 = 0")
    return condition


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
            raise BadRequest("Only equality and :not apply to this property.", op, logref="bad_filter")
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
