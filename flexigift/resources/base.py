"""The generic resource views: an item (GET, PUT, PATCH, DELETE) and a collection
(GET, POST), driven by an :class:`Endpoint` that knows one kind of resource.

A view parses the request, asks its endpoint to read or change the models
inside one database transaction, and hands the one internal representation
the endpoint builds to the negotiated renderer.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Hashable

import peewee
from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields

from representations import Action, Link, Resource

from ..db import database
from ..errors import Conflict, NotFound, ValidationFailed
from ..http.bodies import read_body
from ..http.conditional import check_if_match
from ..http.options import declare_writes
from ..http.respond import empty, respond, with_curies
from ..http.urls import Urls
from ..query.collection import CollectionQuery
from ..query.compiled import CompiledSelect, TemplateSelect
from ..query.fields import Filterable
from ..query.pagination import link_header, page_links
from ..query.params import parse_page_request
from ..query.zoom import Zoom
from .forms import action_fields

#: The largest id a row can have (PostgreSQL's ``serial`` is a 4-byte integer).
MAX_ID = 2**31 - 1
#: How many compiled queries (per order, relation…) one endpoint keeps.
MAX_TEMPLATES = 256
LINK_KEYS = ("_links", "_embedded")


#: Links that other modules add to a kind of resource: kind → {name: provider(obj, urls) → links}.
LINK_PROVIDERS: dict[str, dict[str, Callable[[Any, Urls], dict[str, Link]]]] = {}


def add_links(kind: str, name: str, provider: Callable[[Any, Urls], dict[str, Link]]) -> None:
    """Have every ``kind`` resource carry the links ``provider`` gives (set once per ``name``)."""
    LINK_PROVIDERS.setdefault(kind, {})[name] = provider


def current_urls() -> Urls:
    return Urls(request.url_root)


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
    #: Relations that ``zoom`` can embed in each item.
    zoomable: ClassVar[dict[str, Zoom]] = {}
    #: Whether pages count the whole collection (switch off for very large tables).
    count_total: ClassVar[bool] = True
    DEFAULT_LIMIT: ClassVar[int] = 20
    MAX_LIMIT: ClassVar[int] = 300

    @property
    def rel(self) -> str:
        return f"fg:{self.kind}"

    @property
    def collection_rel(self) -> str:
        return f"fg:{self.name}"

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
            raise NotFound(f"There is no {self.kind.replace('_', ' ')} with id {id}.")
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
            Action("update", href, "PATCH", f"Update this {self.kind.replace('_', ' ')}",
                   fields=action_fields(self.schema, properties)),
            Action("delete", href, "DELETE", f"Delete this {self.kind.replace('_', ' ')}"),
        ]

    def create_action(self, urls: Urls) -> Action:
        return Action("create", urls.collection(self.name), "POST",
                      f"Create a {self.kind.replace('_', ' ')}", fields=action_fields(self.schema))

    def property_names(self) -> set[str]:
        return set(self.schema.fields)

    def represent(self, obj, urls: Urls, with_actions: bool = True) -> Resource:
        """The internal representation of one row (items of a page leave out their actions)."""
        title = self.item_title(obj)
        links: dict[str, Link | list[Link]] = {"self": Link(urls.item(self.name, obj.id), title)}
        links.update(self.links(obj, urls))
        providers = LINK_PROVIDERS.get(self.kind)
        if providers:
            for provider in providers.values():
                links.update(provider(obj, urls))
        properties = self.properties(obj)
        return Resource(
            kind=self.kind, rel=self.rel, properties=properties, links=links,
            actions=self.actions(obj, urls, properties) if with_actions else [],
            title=f"{self.kind.replace('_', ' ').capitalize()} {title}",
        )

    def rows(self, query: peewee.Query | None = None) -> list[peewee.Model]:
        """Every row of ``query`` (all rows by default), with what represent() needs."""
        query = self.select().order_by(self.model.id) if query is None else query
        return self.prepared(list(query))

    def prepared(self, rows: list[peewee.Model]) -> list[peewee.Model]:
        """``rows`` of :meth:`select`, given what represent() needs beyond them (in one query)."""
        return rows

    def rows_where(self, column: peewee.Field, values: list[Any]) -> list[peewee.Model]:
        """The rows whose ``column`` is one of ``values``, in id order, in one query."""
        template = self.template(("rows_where", column.model, column.name),
                                 lambda hole: self.select().where(column.in_(hole)).order_by(self.model.id))
        return self.prepared(template.fill_values(values))

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

    # -- writing ---------------------------------------------------------
    def load(self, body: dict[str, Any], *, partial: bool | tuple[str, ...] = False) -> dict[str, Any]:
        """Validate a body against the schema, reporting every field at fault."""
        data = {key: value for key, value in body.items()
                if key not in LINK_KEYS and key not in self.read_only_fields()}
        try:
            return self.schema.load(data, partial=partial)
        except ValidationError as error:
            raise ValidationFailed.from_messages(error.messages) from None

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
                f"{field} {value!r} is already taken by another {self.kind.replace('_', ' ')}.",
                field, logref="duplicate",
            )


def request_body() -> tuple[dict[str, Any], bool]:
    """The request's body as a mapping, and whether it came from an HTML form."""
    raw = request.get_data(cache=True)
    return read_body(request.mimetype, raw, request.form if request.mimetype.endswith("urlencoded") else None)


def form_to_schema(body: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    """Form values are text: an empty box means "no value", lists come comma-separated."""
    data: dict[str, Any] = {}
    writable = endpoint.writable_fields()
    for name, value in body.items():
        field = writable.get(name)
        if isinstance(field, fields.List):
            values = value if isinstance(value, list) else [value]
            data[name] = [part.strip() for text in values for part in text.split(",") if part.strip()]
        elif isinstance(value, str) and value == "" and field is not None:
            data[name] = None
        elif isinstance(field, fields.Dict) and isinstance(value, str):
            data[name] = _form_json(name, value)
        else:
            data[name] = value
    return data


def _form_json(name: str, text: str) -> Any:
    import json
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValidationFailed.single(name, f"Must be a JSON object: {error}.") from None


def write_body(endpoint: Endpoint) -> dict[str, Any]:
    body, from_form = request_body()
    return form_to_schema(body, endpoint) if from_form else body


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


class ItemView(MethodView):
    """One resource: GET, PUT, PATCH and DELETE."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def get(self, id: int) -> Response:
        obj = self.endpoint.lookup(id)
        return respond(self.endpoint.represent(obj, current_urls()))

    def _check_if_match(self, obj) -> None:
        if request.headers.get("If-Match") is not None:
            check_if_match(with_curies(self.endpoint.represent(obj, current_urls())))

    def put(self, id: int) -> Response:
        return self._write(id, replace=True)

    def patch(self, id: int) -> Response:
        return self._write(id, replace=False)

    def _write(self, id: int, *, replace: bool) -> Response:
        endpoint = self.endpoint
        body = write_body(endpoint)
        partial = endpoint.required_on_create_only if replace else True
        try:
            with database.atomic():
                obj = endpoint.lookup(id, for_update=True)
                self._check_if_match(obj)
                data = endpoint.load(body, partial=partial)
                obj = endpoint.change(obj, data, replace=replace)
                representation = endpoint.represent(obj, current_urls())
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return respond(representation)

    def delete(self, id: int) -> Response:
        try:
            with database.atomic():
                obj = self.endpoint.lookup(id, for_update=True)
                self._check_if_match(obj)
                self.endpoint.delete(obj)
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return empty(204)


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint_named(name: str) -> Endpoint:
    return ENDPOINTS[name]


def collection_page(endpoint: Endpoint, scope: Any = None, title: str | None = None,
                    actions: list[Action] | None = None) -> Response:
    """GET on a collection (or on a parent's sub-collection, narrowed by ``scope``)."""
    urls = current_urls()
    page_request = parse_page_request(request.args, endpoint.DEFAULT_LIMIT, endpoint.MAX_LIMIT)
    query = CollectionQuery(endpoint, page_request, endpoint_named, scope)
    page = query.page()
    items = query.represent(page.rows, urls)
    links = page_links(request.base_url, request.args, page_request.limit, page_request.offset,
                       page.total, page.has_next)
    properties: dict[str, Any] = {"total_items": page.total, "returned_items": len(items),
                                  "limit": page_request.limit, "offset": page_request.offset}
    headers = {"Link": link_header(links)}
    if page.total is None:
        del properties["total_items"]
    else:
        headers["X-Total-Count"] = str(page.total)
    document = Resource(
        kind=endpoint.name, rel=endpoint.collection_rel, properties=properties, links=links,
        embedded={endpoint.collection_rel: items}, items_rel=endpoint.collection_rel,
        title=title or endpoint.title, actions=actions or [],
    )
    return respond(document, headers=headers)


class CollectionView(MethodView):
    """A collection: GET lists it, POST creates a member."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def get(self) -> Response:
        return collection_page(self.endpoint, actions=[self.endpoint.create_action(current_urls())])

    def post(self) -> Response:
        endpoint = self.endpoint
        body = write_body(endpoint)
        try:
            with database.atomic():
                data = endpoint.load(body)
                obj = endpoint.create(data)
                representation = endpoint.represent(obj, current_urls())
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return respond(representation, 201, {"Location": representation.self_href})


class SubCollectionView(MethodView):
    """A parent's related items (``/users/5/gift_cards``): a collection like the others."""

    def __init__(self, parent: Endpoint, child: Endpoint, foreign_key: peewee.ForeignKeyField):
        self.parent, self.child, self.foreign_key = parent, child, foreign_key

    def get(self, id: int) -> Response:
        owner = self.parent.lookup(id)
        title = f"{self.child.title} of {self.parent.kind.replace('_', ' ')} {self.parent.item_title(owner)}"
        return collection_page(self.child, scope=(self.foreign_key == owner.id), title=title)


def register_subcollection(app, parent: Endpoint, child: Endpoint,
                           foreign_key: peewee.ForeignKeyField, name: str | None = None) -> None:
    """Route ``/<parent>/<id>/<name>`` to the child collection narrowed to that parent."""
    name = name or child.name
    view = SubCollectionView.as_view(f"{parent.name}_{name}", parent, child, foreign_key)
    for suffix in ("", "/"):
        app.add_url_rule(f"/{parent.name}/<int:id>/{name}{suffix}", view_func=view)


def register(app, endpoint: Endpoint) -> None:
    """Route ``/<name>`` and ``/<name>/<id>`` (each with or without a trailing slash)."""
    ENDPOINTS[endpoint.name] = endpoint
    collection = CollectionView.as_view(f"{endpoint.name}_collection", endpoint)
    item = ItemView.as_view(f"{endpoint.name}_item", endpoint)
    for suffix in ("", "/"):
        app.add_url_rule(f"/{endpoint.name}{suffix}", view_func=collection)
        app.add_url_rule(f"/{endpoint.name}/<int:id>{suffix}", view_func=item)
    declare_writes(app, collection.__name__, {"POST": endpoint.schema})
    declare_writes(app, item.__name__, {"PUT": endpoint.schema, "PATCH": endpoint.schema})
