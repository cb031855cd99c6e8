"""What the generic views need to know about one kind of resource: an
:class:`Endpoint` names its model and schema, reads rows, builds their
properties, links and actions, and applies the rules of a create or change.

It builds pieces; :mod:`.presenter` puts them together into the one internal
representation a request answers with, as the request's principal may see it.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, ClassVar, Hashable

import peewee
from marshmallow import Schema, ValidationError, fields

from representations import Action, Link

from ..db import database
from ..errors import Conflict, NotFound, ValidationFailed
from ..http.urls import Urls
from ..query.compiled import CompiledSelect, TemplateSelect
from ..query.fields import Filterable
from ..query.shapes import ShapedSelects
from ..query.zoom import Zoom
from .forms import action_fields

#: The largest id a row can have (PostgreSQL's ``serial`` is a 4-byte integer).
MAX_ID = 2**31 - 1
#: How many compiled queries (per order, relation…) one endpoint keeps.
MAX_TEMPLATES = 256
LINK_KEYS = ("_links", "_embedded")


class Endpoint:
    """Everything the generic views need to know about one kind of resource.

    Subclasses name the model and schema and build properties and links;
    they override :meth:`create`, :meth:`change` and :meth:`delete` where the
    resource has rules beyond its schema.
    """

    name: ClassVar[str]           # URL segment and collection relation: "users"
    kind: ClassVar[str]           # item relation and class: "user"
    title: ClassVar[str]          # "Users"
    model: ClassVar[type[peewee.Model]]
    schema: ClassVar[Schema]
    #: Fields a PUT may omit without clearing them (state that changes otherwise).
    kept_on_put: ClassVar[tuple[str, ...]] = ()
    #: Fields that only the creating POST requires.
    required_on_create_only: ClassVar[tuple[str, ...]] = ()
    #: What a collection can be filtered and ordered by (nothing else can).
    filterable: ClassVar[dict[str, Filterable]] = {}
    #: Properties that hold card codes (secrets): masked, and never filtered on, for
    #: a principal that may not see codes.
    code_properties: ClassVar[tuple[str, ...]] = ()
    #: Relations that ``zoom`` can embed in each item.
    zoomable: ClassVar[dict[str, Zoom]] = {}
    #: Whether pages count the whole collection (switch off for very large tables).
    count_total: ClassVar[bool] = True
    DEFAULT_LIMIT: ClassVar[int] = 20
    MAX_LIMIT: ClassVar[int] = 300

    @functools.cached_property
    def rel(self) -> str:
        return f"fg:{self.kind}"

    @property
    def collection_rel(self) -> str:
        return f"fg:{self.name}"

    @functools.cached_property
    def label(self) -> str:
        """The kind in words: ``gift card``."""
        return self.kind.replace("_", " ")

    @functools.cached_property
    def item_title_prefix(self) -> str:
        """What each item's title starts with: ``Gift card ``."""
        return f"{self.label.capitalize()} "

    # -- reading ---------------------------------------------------------
    def select(self) -> peewee.ModelSelect:
        """The query every read starts from (joins what properties() needs)."""
        return self.model.select()

    def lookup(self, id: int, for_update: bool = False) -> peewee.Model:
        """The row with ``id``, or a 404."""
        obj = None
        if 0 < id <= MAX_ID:
            if for_update and not isinstance(database.obj, peewee.SqliteDatabase):
                obj = self.select().where(self.model.id == id).for_update(of=self.model).first()
            else:
                obj = self._by_id().first(id)
        if obj is None:
            raise NotFound(f"There is no {self.label} with id {id}.")
        return obj

    def _by_id(self) -> CompiledSelect:
        compiled = self.__dict__.get("_compiled_by_id")
        if compiled is None:
            compiled = CompiledSelect(lambda hole: self.select().where(self.model.id == hole))
            self._compiled_by_id = compiled
        return compiled

    def item_title(self, obj) -> str:
        return str(obj.id)

    def properties(self, obj) -> dict[str, Any]:
        raise NotImplementedError

    def links(self, obj, urls: Urls) -> dict[str, Link | list[Link]]:
        """Relations beyond ``self`` (subclasses add theirs)."""
        return {}

    def actions(self, obj, urls: Urls, properties: dict[str, Any]) -> list[Action]:
        """What a client can do to this item: update it, delete it, and domain actions."""
        href = urls.item(self.name, obj.id)
        return [
            Action("update", href, "PATCH", f"Update this {self.label}",
                   fields=action_fields(self.schema, properties)),
            Action("delete", href, "DELETE", f"Delete this {self.label}"),
        ]

    def create_action(self, urls: Urls) -> Action:
        return Action("create", urls.collection(self.name), "POST",
                      f"Create a {self.label}", fields=action_fields(self.schema))

    def property_names(self) -> set[str]:
        return set(self.schema.fields)

    def rows(self, query: peewee.Query | None = None) -> list[peewee.Model]:
        """Every row of ``query`` (all rows by default), with what the properties need."""
        query = self.select().order_by(self.model.id) if query is None else query
        return self.prepared(list(query))

    def prepared(self, rows: list[peewee.Model]) -> list[peewee.Model]:
        """``rows`` of :meth:`select`, given what the properties need beyond them (in one query)."""
        return rows

    def rows_where(self, column: peewee.Field, values: list[Any]) -> list[peewee.Model]:
        """The rows whose ``column`` is one of ``values``, in id order, in one query."""
        template = self.template(("rows_where", column.model, column.name),
                                 lambda hole: self.select().where(column.in_(hole)).order_by(self.model.id))
        return self.prepared(template.fill_values(values))

    def rows_where_first(self, column: peewee.Field, values: list[Any], per_value: int,
                         condition: Any = None) -> list[peewee.Model]:
        """At most the first ``per_value`` rows (by id) for each of ``values`` of ``column``,
        and only rows that meet ``condition`` when given; in id order, in one query.

        The database numbers each value's rows (``ROW_NUMBER() OVER (PARTITION BY
        column ORDER BY id)``) and only the first ones are fetched, however many
        rows a value has.
        """
        if not values:
            return []
        model = self.model

        def build(hole: Any, where: Any = None) -> peewee.Query:
            number = peewee.fn.ROW_NUMBER().over(partition_by=[column], order_by=[model.id])
            columns = (model.id.alias("ranked_id"), number.alias("ranked_number"))
            if where is None:  # the bare table: its index on ``column`` serves it
                ranked = model.select(*columns).where(column.in_(hole)).alias("ranked")
            else:  # the condition may name what select() joins
                ranked = self.select().select(*columns).where(column.in_(hole) & where).alias("ranked")
            firsts = (peewee.Select([ranked], [ranked.c.ranked_id])
                      .where(ranked.c.ranked_number <= per_value))
            return self.select().where(model.id.in_(firsts)).order_by(model.id)

        if condition is None:
            template = self.template(("rows_where_first", column.model, column.name, per_value), build)
            return self.prepared(template.fill_values(values))
        return self.rows(build(values, condition))

    def template(self, key: Hashable, build: Callable[[peewee.Node], peewee.Query], *,
                 raw: bool = False) -> TemplateSelect:
        """The :class:`TemplateSelect` of ``build`` kept under ``key`` (compiled once per database).

        Keys come from a bounded set (relations, order fields); past
        ``MAX_TEMPLATES`` a template is built for the one call and not kept.
        """
        templates = self.__dict__.setdefault("_templates", {})
        template = templates.get(key)
        if template is None:
            template = TemplateSelect(build, raw=raw)
            if len(templates) < MAX_TEMPLATES:
                templates[key] = template
        return template

    @property
    def shapes(self) -> ShapedSelects:
        """The endpoint's filtered queries, written once per shape of their condition."""
        shapes = self.__dict__.get("_shapes")
        if shapes is None:
            shapes = self._shapes = ShapedSelects()
        return shapes

    # -- writing ---------------------------------------------------------
    def load(self, body: dict[str, Any], *, partial: bool | tuple[str, ...] = False) -> dict[str, Any]:
        """Validate a body against the schema, reporting every field at fault."""
        data = {key: value for key, value in body.items()
                if key not in LINK_KEYS and key not in self.read_only_fields()}
        try:
            return self.schema.load(data, partial=partial)
        except ValidationError as error:
            raise ValidationFailed.from_messages(error.messages) from None

    def currency_for(self, body: dict[str, Any], obj=None) -> str | None:
        """The currency the amounts of ``body`` are in (a write of ``obj``, or a create);
        None: no amounts, or hundredths."""
        return None

    def read_only_fields(self) -> set[str]:
        return {name for name, field in self.schema.fields.items() if field.dump_only}

    def writable_fields(self) -> dict[str, fields.Field]:
        return {name: field for name, field in self.schema.fields.items() if not field.dump_only}

    def create(self, data: dict[str, Any]) -> peewee.Model:
        raise NotImplementedError

    def change(self, obj, data: dict[str, Any], *, replace: bool) -> peewee.Model:
        raise NotImplementedError

    def delete(self, obj) -> None:
        obj.delete_instance()

    def change_action(self, changes: dict[str, list[Any]]) -> str:
        """How the audit trail names a change (``updated``, or a status change)."""
        return "updated"

    def cleared(self, data: dict[str, Any]) -> dict[str, Any]:
        """For a PUT: ``data`` with every omitted optional field set to its default."""
        full = dict(data)
        for name, field in self.writable_fields().items():
            if name in full or name in self.kept_on_put:
                continue
            default = field.load_default
            full[name] = None if default is fields.missing_ else default
        return full

    def check_unique(self, obj, column: peewee.Field, value: Any, field: str) -> None:
        """409 when another row already has ``value`` in a unique column."""
        query = self.model.select(self.model.id).where(column == value)
        if obj is not None:
            query = query.where(self.model.id != obj.id)
        if query.exists():
            raise Conflict(
                f"{field} {value!r} is already taken by another {self.label}.",
                field, logref="duplicate",
            )


def integrity_conflict(error: peewee.IntegrityError) -> Exception:
    """A unique or foreign-key violation (a race the checks above lost) is a 409;
    any other integrity error is our bug and stays one."""
    if not _is_conflict(error):
        return error
    return Conflict(
        "The change conflicts with another resource (a unique value is already taken "
        "or a linked resource is in use).", logref="conflict",
    )


def _is_conflict(error: peewee.IntegrityError) -> bool:
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in {"23505", "23503"}
    text = str(error).upper()
    return "UNIQUE" in text or "FOREIGN KEY" in text
