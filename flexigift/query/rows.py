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
        """The model instances of ``rows`` (tuples in the select's column order)."""
        build = self.__dict__.get("_build")
        if build is None:
            build = self._build = _written(self)
        return build(rows)


def _written(plan: RowPlan) -> Callable[[list[tuple]], list[peewee.Model]]:
    """``plan.build`` written out as Python for this plan and compiled once: a line per
    column and per instance rather than a loop over the columns of every row (a page
    builds a few hundred values).

    For each column: the value as the row has it when it has no converter, is None, or
    is already of the type the converter would leave alone; else the converter's value.
    """
    names: dict[str, Any] = {"_set": set}
    lines = ["def build(rows):", "    built = []", "    for row in rows:"]

    def value(index: int, converter: Converter, native: type | None) -> str:
        if converter is None:
            return f"row[{index}]"
        names[f"_convert{index}"] = converter
        if native is None:
            return f"(None if (v := row[{index}]) is None else _convert{index}(v))"
        names[f"_native{index}"] = native
        return f"(v if (v := row[{index}]) is None or v.__class__ is _native{index} else _convert{index}(v))"

    models = [plan.root, *(model for model, _ in plan.joined)]
    for owner, model in enumerate(models):
        names[f"_model{owner}"] = model
        fields = []
        for index, (at, name, converter, native) in enumerate(plan.columns):
            if at == owner:
                lines.append(f"        c{index} = {value(index, converter, native)}")
                fields.append(f"{name!r}: c{index}")
        lines.append(f"        data{owner} = {{{', '.join(fields)}}}")
    lines += ["        instance = _model0.__new__(_model0)",
              "        instance.__data__ = data0",
              "        instance._dirty = _set()",
              "        instance.__rel__ = rel = {}"]
    for index, name, converter in plan.attributes:
        names[f"_attribute{index}"] = converter
        read = f"row[{index}]" if converter is None else f"_attribute{index}(row[{index}])"
        lines.append(f"        instance.__dict__[{name!r}] = {read}")
    for owner, (model, foreign_key) in enumerate(plan.joined, start=1):
        found = " or ".join(f"c{index} is not None" for index, (at, *_) in enumerate(plan.columns) if at == owner)
        lines += [f"        if {found or 'False'}:",
                  f"            related = _model{owner}.__new__(_model{owner})",
                  f"            related.__data__ = data{owner}",
                  "            related._dirty = _set()",
                  "            related.__rel__ = {}",
                  f"            rel[{foreign_key!r}] = related",
                  "        else:",
                  f"            rel[{foreign_key!r}] = None"]
    lines += ["        built.append(instance)", "    return built"]
    exec(compile("\n".join(lines), f"<row plan of {plan.root.__name__}>", "exec"), names)
    return names["build"]


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

