"""Building what one request shows, in one place.

A :class:`Presenter` is made once per request. It puts an endpoint's pieces
(properties, links, actions) together into :class:`~representations.Resource`
objects, embeds zoomed relations, and, before the document is rendered, lets
the request's principal screen it: every link, embedded resource and action
the principal could not use is taken out here, whatever built it.

Actions are built only when the negotiated renderer shows them (HAL and plain
JSON never do).
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

import peewee
from flask import Response, current_app

from representations import Link, Resource

from ..http.context import current_g
from ..http.respond import negotiated_renderer, respond
from ..http.urls import Urls, request_root
from ..query.zoom import more_than_property
from ..registry import Registry, current_registry


class Screen(Protocol):
    """What a principal lets a response show (see :mod:`flexigift.auth.screen`)."""

    def screen(self, document: Resource) -> None:
        """Take out of ``document`` whatever the principal may not use."""


class Presenter:
    """The representations one request builds, as its principal may see them."""

    def __init__(self, registry: Registry, urls: Urls, screen: Screen | None = None,
                 with_actions: bool = True, visible: Callable[[str], Any] | None = None,
                 with_item_actions: bool = False, zoom_cap: int | None = None):
        self.registry = registry
        self.urls = urls
        self.screen = screen
        self.with_actions = with_actions
        #: Whether the items of a collection page carry their actions (Siren's do).
        self.with_item_actions = with_actions and with_item_actions
        #: kind → the condition rows must meet for the principal to see them (None: all).
        self.visible = visible or (lambda kind: None)
        #: How many items a zoomed to-many relation embeds per item at most (None: all).
        self.zoom_cap = zoom_cap

    # -- items -------------------------------------------------------------
    def item(self, endpoint, obj, *, actions: bool | None = None) -> Resource:
        """The representation of one row of ``endpoint``; its actions are built when
        the renderer shows them (``actions=None``), always (``True``) or never."""
        urls = self.urls
        title = endpoint.item_title(obj)
        links: dict[str, Link | list[Link]] = {"self": Link(urls.item(endpoint.name, obj.id), title)}
        links.update(endpoint.links(obj, urls))
        for provider in self.registry.providers_of(endpoint.kind):
            links.update(provider(obj, urls))
        properties = endpoint.properties(obj)
        return Resource(
            kind=endpoint.kind, rel=endpoint.rel, properties=properties, links=links,
            actions=endpoint.actions(obj, urls, properties) if (
                self.with_actions if actions is None else actions) else [],
            title=f"{endpoint.item_title_prefix}{title}",
        )

    def items(self, endpoint, rows: list[peewee.Model], zoom: dict[str, dict],
              fields: list[str] | None = None) -> list[Resource]:
        """The items of a page, each embedding its zoomed relations (one query per relation)."""
        items = self._items(endpoint, rows, zoom, actions=self.with_item_actions)
        if fields is not None:
            kept = [*fields, *(more_than_property(name) for name in zoom)]  # what zoom says stays, as links do
            for item in items:
                item.properties = {name: item.properties[name] for name in kept if name in item.properties}
        return items

    def _items(self, endpoint, rows: list[peewee.Model], tree: dict[str, dict],
               actions: bool = False) -> list[Resource]:
        items = [self.item(endpoint, row, actions=actions) for row in rows]
        for name, children in tree.items():
            zoom = endpoint.zoomable[name]
            target = self.registry.endpoint(zoom.target)
            cap = self.zoom_cap
            related = zoom.related(target, rows, self.visible(target.kind),
                                   per_parent=None if not zoom.many or cap is None else cap + 1)
            if zoom.many:
                # cap + 1 rows read: the one past the cap only tells that there are more
                shown = {row.id: related.get(row.id, [])[:cap] for row in rows}
                every_child = [child for row in rows for child in shown[row.id]]
                represented = iter(self._items(target, every_child, children))
                for item, row in zip(items, rows):
                    item.embedded[zoom.rel] = [next(represented) for _ in shown[row.id]]
                    if len(related.get(row.id, [])) > len(shown[row.id]):
                        # the rest: the relation's own collection, linked beside (fg:<name>)
                        item.properties[zoom.more_than] = cap
            else:
                present = [related[row.id] for row in rows if related.get(row.id) is not None]
                represented = iter(self._items(target, present, children))
                for item, row in zip(items, rows):
                    if related.get(row.id) is not None:
                        item.embedded[zoom.rel] = next(represented)
        return items

    # -- the document ------------------------------------------------------
    def finish(self, document: Resource) -> Resource:
        """``document`` as this request's principal may see it."""
        if self.screen is not None:
            self.screen.screen(document)
        if not document.curies:
            document.curies = (self.urls.curie(),)
        return document

    def respond(self, document: Resource, status: int = 200,
                headers: dict[str, str] | None = None) -> Response:
        """Screen ``document`` and render it in the negotiated media type."""
        return respond(self.finish(document), status, headers)



def current_presenter() -> Presenter:
    """This request's presenter (made on first use)."""
    ctx = current_g()
    presenter = ctx.get("presenter")
    if presenter is None:
        principal, renderer = ctx.get("principal"), negotiated_renderer()
        presenter = Presenter(current_registry(), current_urls(), ctx.get("screen"),
                              with_actions=renderer.shows_actions,
                              with_item_actions=renderer.shows_item_actions,
                              visible=principal.scope.where if principal is not None else None,
                              zoom_cap=current_app.config["FLEXIGIFT"].zoom_cap)
        ctx.presenter = presenter
    return presenter


def current_urls() -> Urls:
    """The URLs of this request's API root."""
    ctx = current_g()
    urls = ctx.get("urls")
    if urls is None:
        urls = ctx.urls = Urls(request_root())
    return urls
