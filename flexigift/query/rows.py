"""Turning result rows into model instances, faster than peewee's general wrapper.

peewee's ``ModelCursorWrapper`` walks the join graph for every row; for the
selects our endpoints read through (one model, plus models its foreign keys
point at) a row plan worked out once does the same in a fraction of the time.
The plan reuses peewee's own choice of converter for each column, and gives
the same instances: ``__data__`` filled by field name, nothing dirty, a
joined instance in ``__rel__`` (``None`` where an outer join found no row), and
a selected expression that is no column (``held_subquery().alias("held")``) an
attribute of the root instance, as peewee sets it. Any other select keeps
peewee's wrapper.
"""
from __future__ import annotations

import datetime
from typing import Any, Callable

import peewee

Converter = Callable[[Any], Any] | None

#: Fields whose converter leaves a value of this type as it is (so it is not called).
_NATIVE = (
    (peewee.BooleanField, bool),
    (peewee.IntegerField, int),  # AutoField and BigIntegerField too
    (peewee.CharField, str),
    (peewee.TextField, str),
)


def _fast_datetime(peewee_converter: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite hands datetimes back as text: ``fromisoformat`` reads ours (naive UTC) fastest."""
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                return peewee_converter(value)
            if moment.tzinfo is None:
                return moment
        return peewee_converter(value)
    return convert


class RowPlan:
    """How each column of one select lands in which instance, worked out once."""

    def __init__(self, root: type[peewee.Model], columns: list[tuple[int, str, Converter, type | None]],
                 joined: list[tuple[type[peewee.Model], str]],
                 attributes: list[tuple[int, str, Converter]] = ()):
        self.root = root
        # (index of the column in the row, attribute name, converter): expressions set on the root
        self.attributes = list(attributes)
        # (index of the model in [root, *joined], field name, converter, type it leaves alone)
        self.columns = columns
        self.joined = joined    # (joined model, name of the root's foreign key to it)

    @classmethod
    def for_query(cls, query: peewee.Query, wrapper) -> RowPlan | None:
        """The plan of ``query``, from peewee's initialised ``wrapper``; None where it does not apply."""
        plain = isinstance(wrapper, peewee.ModelObjectCursorWrapper) and wrapper.constructor is query.model
        if not (plain or isinstance(wrapper, peewee.ModelCursorWrapper)) or query._joins and any(
                join_type not in (peewee.JOIN.INNER, peewee.JOIN.LEFT_OUTER)
                for joins in query._joins.values() for _, _, _, join_type in joins):
            return None
        root = query.model
        models: list[type[peewee.Model]] = [root]
        joined: list[tuple[type[peewee.Model], str]] = []
        columns: list[tuple[int, str, Converter, type | None]] = []
        attributes: list[tuple[int, str, Converter]] = []
        for index, (field, converter) in enumerate(zip(wrapper.fields, wrapper.converters)):
            if field is None:
                attribute = _attribute(root, wrapper.select[index], wrapper.columns[index])
                if attribute is None:
                    return None
                attributes.append((index, attribute, converter))
                continue
            if isinstance(field, peewee.FieldAlias):
                return None
            model = field.model
            if model not in models:
                foreign_keys = [fk for fk in root._meta.refs if fk.rel_model is model]
                if len(foreign_keys) != 1:
                    return None
                models.append(model)
                joined.append((model, foreign_keys[0].name))
            if isinstance(field, peewee.DateTimeField) and converter is not None:
                converter = _fast_datetime(converter)
            native = _native(field)
            columns.append((models.index(model), field.name, converter, native))
        if attributes:
            # the row's values of the fields alone, in order, for build()
            fields_at = [index for index in range(len(wrapper.fields)) if wrapper.fields[index] is not None]
            if fields_at != list(range(len(fields_at))):
                return None  # an expression between fields: keep it simple, leave it to peewee
        return cls(root, columns, joined, attributes)

    @classmethod
    def for_model(cls, model: type[peewee.Model]) -> RowPlan:
        """The plan of ``model.select()``: its fields in order, each converted as peewee would."""
        columns: list[tuple[int, str, Converter, type | None]] = []
        for field in model._meta.sorted_fields:
            converter = field.python_value
            if isinstance(field, peewee.DateTimeField):
                converter = _fast_datetime(converter)
            columns.append((0, field.name, converter, _native(field)))
        return cls(model, columns, [])

    def build(self, rows: list[tuple]) -> list[peewee.Model]:
        built = []
        count = 1 + len(self.joined)
        for row in rows:
            data: list[dict] = [{} for _ in range(count)]
            for value, (owner, name, converter, native) in zip(row, self.columns):
                if converter is None or value is None or value.__class__ is native:
                    data[owner][name] = value
                else:
                    data[owner][name] = converter(value)
            instance = _instance(self.root, data[0])
            for index, name, converter in self.attributes:
                value = row[index]
                instance.__dict__[name] = value if converter is None else converter(value)
            for (model, foreign_key), values in zip(self.joined, data[1:]):
                found = any(value is not None for value in values.values())
                instance.__rel__[foreign_key] = _instance(model, values) if found else None
            built.append(instance)
        return built


def _attribute(root: type[peewee.Model], node: Any, column: str) -> str | None:
    """The attribute of ``root`` instances peewee sets to a selected expression that is no
    field (``None`` where the plan does not handle it: a column, a bind-to, a clash)."""
    if isinstance(node, peewee.BindTo):
        return None
    unwrapped = node.unwrap() if isinstance(node, peewee.Node) else node
    if isinstance(unwrapped, peewee.Column):
        return None
    name = peewee.make_identifier(column)
    if name in root._meta.fields or name.startswith("_") or hasattr(root, name):
        return None
    return name


def _native(field: peewee.Field) -> type | None:
    """The type of value ``field``'s converter would leave as it is."""
    if isinstance(field, peewee.ForeignKeyField):
        field = field.rel_field
    return next((kind for field_type, kind in _NATIVE if isinstance(field, field_type)), None)


def _instance(model: type[peewee.Model], data: dict) -> peewee.Model:
    instance = model.__new__(model)
    instance.__data__ = data
    instance._dirty = set()
    instance.__rel__ = {}
    return instance
