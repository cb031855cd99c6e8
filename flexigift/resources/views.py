"""The generic resource views: an item (GET, PUT, PATCH, DELETE), a collection
(GET, POST) and a parent's sub-collection (GET), each driven by an
:class:`~.endpoint.Endpoint`.

A view parses the request, asks its endpoint to read or change the models
inside one database transaction, and answers with the one representation the
request's :class:`~.presenter.Presenter` builds.
"""
from __future__ import annotations

from typing import Any, Callable

import peewee
from flask import Flask, Response, current_app, request
from flask.views import MethodView

from representations import Action, Link, Resource

from ..auth.principal import Principal, current_principal
from .. import events
from ..db import database
from ..errors import Forbidden
from ..money import amounts_in
from ..http.conditional import check_if_match
from ..http.respond import empty
from ..query.collection import CollectionQuery
from ..query.pagination import link_header, page_links
from ..query.params import PageRequest, parse_page_request
from ..registry import current_registry, registry_of
from ..services import changes
from ..services.actors import revealing_codes
from .endpoint import Endpoint, integrity_conflict
from .inputs import write_body
from .presenter import current_presenter


def endpoint_named(name: str) -> Endpoint:
    """The endpoint serving ``name`` in the current application."""
    return current_registry().endpoint(name)


def collection_page(endpoint: Endpoint, scope: Any = None, title: str | None = None,
                    actions: list[Action] | None = None) -> Response:
    """GET on a collection (or on a parent's sub-collection, narrowed by ``scope``)."""
    presenter, principal = current_presenter(), current_principal()
    page_request = parse_page_request(request.args, endpoint.DEFAULT_LIMIT, endpoint.MAX_LIMIT)
    seen = principal.scope.where(endpoint.kind)
    if seen is not None:
        scope = seen if scope is None else (scope & seen)
    query = CollectionQuery(endpoint, page_request, endpoint_named, scope, principal.scope.where,
                            count_cap=current_app.config["FLEXIGIFT"].count_cap)
    _check_readable(principal, endpoint, page_request)
    page = query.page()
    items = presenter.items(endpoint, page.rows, page_request.zoom, page_request.fields)
    links = page_links(presenter.urls.here(), request.args, page_request.limit, page_request.offset,
                       page.total, page.has_next, page.has_prev,
                       first_id=page.rows[0].id if page.rows else page_request.before,
                       last_id=page.rows[-1].id if page.rows else page_request.after)
    properties: dict[str, Any] = {"total_items": page.total, "returned_items": len(items),
                                  "limit": page_request.limit, "offset": page_request.offset}
    header = link_header(links)
    headers = {"Link": header} if header is not None else {}
    links["search"] = search_link(presenter.urls.here(), endpoint)
    if page.total is None:
        del properties["total_items"]
        if page.more_than is not None:
            properties["total_items_more_than"] = page.more_than
            headers["X-Total-Count-More-Than"] = str(page.more_than)  # plain JSON's only sign of it
    else:
        headers["X-Total-Count"] = str(page.total)
    document = Resource(
        kind=endpoint.name, rel=endpoint.collection_rel, properties=properties, links=links,
        embedded={endpoint.collection_rel: items}, items_rel=endpoint.collection_rel,
        title=title or endpoint.title, actions=actions or [],
    )
    return presenter.respond(document, headers=headers)


#: The query parameters every collection takes, besides its filters.
PAGE_PARAMETERS = ("zoom", "order", "fields", "limit", "offset")


def search_link(href: str, endpoint: Endpoint) -> Link:
    """A URI template of the collection's query parameters, so a client can discover
    its filters, zoom, order and paging from the API itself (``/rels`` says more:
    the operators a filter takes, ``name:greaterthan=…``)."""
    names = (*endpoint.filterable, *PAGE_PARAMETERS)
    return Link(f"{href}{{?{','.join(names)}}}", f"Search {endpoint.title.lower()}: filters, zoom, order "
                "and paging", True)


def _check_readable(principal: Principal, endpoint: Endpoint, page_request: PageRequest) -> None:
    """403 for a zoom into what the principal may not read, and, for a principal that
    may not see card codes, for a filter or order on one (each would reveal them)."""
    if principal.unrestricted:
        return
    _check_zoom(principal, endpoint, page_request.zoom)
    if principal.sees_codes:
        return
    for term in page_request.filters:
        target = endpoint
        for name in term.path:
            zoom = target.zoomable.get(name)
            target = endpoint_named(zoom.target) if zoom is not None else None
            if target is None:
                break
        if target is not None and term.field in target.code_properties:
            raise Forbidden(f"Query parameter {term.parameter}: a {principal.role.kind} token may not "
                            "filter on card codes (it sees them masked).", term.parameter,
                            logref="forbidden_filter")
    for name, _ in page_request.order:
        if name in endpoint.code_properties:
            raise Forbidden(f"Query parameter order: a {principal.role.kind} token may not order by "
                            "card codes (it sees them masked).", "order", logref="forbidden_filter")


def _check_zoom(principal: Principal, endpoint: Endpoint, tree: dict[str, dict]) -> None:
    for name, children in tree.items():
        target = endpoint_named(endpoint.zoomable[name].target)
        if not principal.may(f"{target.name}_item", "GET"):
            raise Forbidden(f"Query parameter zoom: a {principal.role.kind} token may not read "
                            f"{target.title.lower()}.", "zoom", logref="forbidden_zoom")
        _check_zoom(principal, target, children)


def state_of(endpoint: Endpoint, obj) -> dict[str, Any]:
    """What the audit trail records of a row: its properties, card codes whole."""
    with revealing_codes():
        return endpoint.properties(obj)


def record_change(endpoint: Endpoint, obj, before: dict[str, Any] | None,
                  after: dict[str, Any] | None) -> None:
    """Record what a write changed of ``obj`` (nothing when it changed nothing)."""
    difference = changes.differences(before, after)
    if before is None:
        action = "created"
    elif after is None:
        action = "deleted"
    elif not difference:
        return
    else:
        action = endpoint.change_action(difference)
    changes.record(endpoint.kind, obj.id, action, difference)
    event_type = events.change_type(endpoint.kind, action, difference)
    if event_type is not None:
        events.record_event(event_type, (endpoint.kind, obj.id), after if after is not None else before,
                            issuer_id=events.issuer_of(endpoint.kind, obj))


class ItemView(MethodView):
    """One resource: GET, PUT, PATCH and DELETE."""

    init_every_request = False  # holds only what it was made with: one instance serves every request

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def get(self, id: int) -> Response:
        presenter = current_presenter()
        return presenter.respond(presenter.item(self.endpoint, self.endpoint.lookup(id)))

    def _check_if_match(self, obj) -> None:
        if request.headers.get("If-Match") is not None:
            presenter = current_presenter()
            # Every representation the tag may name, so actions too (Siren's tag covers them).
            check_if_match(presenter.finish(presenter.item(self.endpoint, obj, actions=True)))

    def put(self, id: int) -> Response:
        return self._write(id, replace=True)

    def patch(self, id: int) -> Response:
        return self._write(id, replace=False)

    def _write(self, id: int, *, replace: bool) -> Response:
        endpoint, presenter = self.endpoint, current_presenter()
        body = write_body(endpoint.schema)
        partial = endpoint.required_on_create_only if replace else True
        try:
            with database.atomic():
                obj = endpoint.lookup(id, for_update=True)
                self._check_if_match(obj)
                with amounts_in(endpoint.currency_for(body, obj)):
                    data = endpoint.load(body, partial=partial)
                before = state_of(endpoint, obj)
                obj = endpoint.change(obj, data, replace=replace)
                record_change(endpoint, obj, before, state_of(endpoint, obj))
                representation = presenter.item(endpoint, obj)
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return presenter.respond(representation)

    def delete(self, id: int) -> Response:
        try:
            with database.atomic():
                obj = self.endpoint.lookup(id, for_update=True)
                self._check_if_match(obj)
                before = state_of(self.endpoint, obj)
                self.endpoint.delete(obj)
                record_change(self.endpoint, obj, before, None)
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return empty(204)


class CollectionView(MethodView):
    """A collection: GET lists it, POST creates a member."""

    init_every_request = False  # holds only what it was made with: one instance serves every request

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint

    def get(self) -> Response:
        create = self.endpoint.create_action(current_presenter().urls)
        return collection_page(self.endpoint, actions=[create])

    def post(self) -> Response:
        endpoint, presenter = self.endpoint, current_presenter()
        body = write_body(endpoint.schema)
        try:
            with database.atomic():
                with amounts_in(endpoint.currency_for(body)):
                    data = endpoint.load(body)
                obj = endpoint.create(data)
                record_change(endpoint, obj, None, state_of(endpoint, obj))
                representation = presenter.item(endpoint, obj)
        except peewee.IntegrityError as error:
            raise integrity_conflict(error) from None
        return presenter.respond(representation, 201, {"Location": representation.self_href})


class SubCollectionView(MethodView):
    """A parent's related items (``/users/5/gift_cards``): a collection like the others.

    ``scope(owner)`` is the condition that narrows the child collection to the parent.
    """

    init_every_request = False  # holds only what it was made with: one instance serves every request

    def __init__(self, parent: Endpoint, child: Endpoint, scope: Callable[[peewee.Model], Any]):
        self.parent, self.child, self.scope = parent, child, scope

    def get(self, id: int) -> Response:
        owner = self.parent.lookup(id)
        title = f"{self.child.title} of {self.parent.label} {self.parent.item_title(owner)}"
        return collection_page(self.child, scope=self.scope(owner), title=title)


def add_routes(app: Flask, rule: str, view) -> None:
    """Route ``rule`` with and without a trailing slash, as every other URL is."""
    for suffix in ("", "/"):
        app.add_url_rule(f"{rule}{suffix}", view_func=view)


def register_subcollection(app: Flask, parent: Endpoint, child: Endpoint,
                           foreign_key: peewee.ForeignKeyField | None = None, name: str | None = None,
                           scope: Callable[[peewee.Model], Any] | None = None) -> None:
    """Route ``/<parent>/<id>/<name>`` to the child collection narrowed to that parent
    (by ``foreign_key``, or by the condition ``scope(parent row)`` gives)."""
    name = name or child.name
    if scope is None:
        scope = lambda owner: foreign_key == owner.id  # noqa: E731
    view = SubCollectionView.as_view(f"{parent.name}_{name}", parent, child, scope)
    add_routes(app, f"/{parent.name}/<int:id>/{name}", view)


def register(app: Flask, endpoint: Endpoint, *, home: bool = True) -> None:
    """Serve ``endpoint``: route ``/<name>`` and ``/<name>/<id>`` and declare their writes."""
    registry = registry_of(app)
    registry.add_endpoint(endpoint, home=home)
    collection = CollectionView.as_view(f"{endpoint.name}_collection", endpoint)
    item = ItemView.as_view(f"{endpoint.name}_item", endpoint)
    add_routes(app, f"/{endpoint.name}", collection)
    add_routes(app, f"/{endpoint.name}/<int:id>", item)
    registry.declare_writes(collection.__name__, {"POST": endpoint.schema})
    registry.declare_writes(item.__name__, {"PUT": endpoint.schema, "PATCH": endpoint.schema})
