"""Screening a response: whatever the principal could not use is taken out.

Every link, action and embedded resource of a document points at a URL of
this API. The screen routes that URL (once per URL shape: ids do not change
the route) and keeps it only when the principal's role may use that route
(:mod:`.roles`: GET for a link, POST for a link to an action, the action's own
method for an action) and, for rows the principal's scope can hide, when the
row is visible: those are checked in one query per kind of row for the whole
document. URLs outside the API are kept.
"""
from __future__ import annotations

import re
from collections import defaultdict

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from representations import Link, Resource

from .principal import Principal
from .roles import link_method
from .scopes import ROUTE_KINDS

_ID = re.compile(r"/[0-9]+(?=/|$)")
_CACHE_LIMIT = 4096
Target = tuple[str | None, int | None]  # (route, id of the row it names)


class RouteMatcher:
    """Which route a path of this API goes to (cached per shape of path)."""

    def __init__(self, app: Flask):
        self.adapter: MapAdapter = app.url_map.bind("flexigift.invalid")
        self._routes: dict[str, str | None] = {}

    def route_of(self, path: str) -> str | None:
        shape = _ID.sub("/0", path)
        if shape in self._routes:
            return self._routes[shape]
        route = None
        for method in ("GET", "POST"):
            try:
                route = self.adapter.match(shape, method=method)[0]
                break
            except HTTPException:
                continue
        if len(self._routes) < _CACHE_LIMIT:
            self._routes[shape] = route
        return route


def matcher_of(app: Flask) -> RouteMatcher:
    matcher = app.extensions.get("flexigift_routes")
    if matcher is None:
        matcher = app.extensions["flexigift_routes"] = RouteMatcher(app)
    return matcher


class DocumentScreen:
    """Takes out of a document what one principal could not use."""

    def __init__(self, principal: Principal, matcher: RouteMatcher, root: str):
        self.principal = principal
        self.matcher = matcher
        self.root = root.rstrip("/")

    # -- where a URL goes --------------------------------------------------
    def target(self, href: str) -> Target:
        """The route of ``href`` and the id of the row it names (``(None, None)``: not ours)."""
        if not href.startswith(self.root):
            return None, None
        path = href[len(self.root):]
        for stop in ("?", "{", "#"):
            path = path.partition(stop)[0]
        path = path or "/"
        route = self.matcher.route_of(path)
        if route is None:
            return None, None
        match = _ID.search(path)
        return route, int(match.group()[1:]) if match else None

    def _allowed(self, href: str, method: str | None, hidden: set[tuple[str, int]]) -> bool:
        route, pk = self.target(href)
        if route is None:
            return True
        if not self.principal.may(route, method or link_method(route)):
            return False
        kind = ROUTE_KINDS.get(route)
        return kind is None or pk is None or (kind, pk) not in hidden

    # -- screening ---------------------------------------------------------
    def screen(self, document: Resource) -> None:
        if self.principal.unrestricted:
            return
        hidden = self._hidden_rows(document)
        self._screen(document, hidden)

    def _hidden_rows(self, document: Resource) -> set[tuple[str, int]]:
        """The rows named anywhere in ``document`` that the principal's scope hides."""
        scope = self.principal.scope
        if not scope.restricted:
            return set()
        named: dict[str, set[int]] = defaultdict(set)
        for href in _hrefs(document):
            route, pk = self.target(href)
            kind = ROUTE_KINDS.get(route or "")
            if kind is not None and pk is not None:
                named[kind].add(pk)
        return {(kind, pk) for kind, pks in named.items() for pk in pks - scope.visible(kind, pks)}

    def _screen(self, resource: Resource, hidden: set[tuple[str, int]]) -> None:
        links: dict[str, Link | list[Link]] = {}
        for rel, value in resource.links.items():
            if rel == "self":
                links[rel] = value
            elif isinstance(value, list):
                kept = [link for link in value if self._allowed(link.href, None, hidden)]
                if kept:
                    links[rel] = kept
            elif self._allowed(value.href, None, hidden):
                links[rel] = value
        resource.links = links
        resource.actions = [action for action in resource.actions
                            if self._allowed(action.href, action.method.upper(), hidden)]
        embedded: dict[str, Resource | list[Resource]] = {}
        for rel, value in resource.embedded.items():
            if isinstance(value, list):
                embedded[rel] = [item for item in value if self._shows(item, hidden)]
            elif self._shows(value, hidden):
                embedded[rel] = value
        resource.embedded = embedded

    def _shows(self, item: Resource, hidden: set[tuple[str, int]]) -> bool:
        href = item.self_href
        if href is not None and not self._allowed(href, "GET", hidden):
            return False
        self._screen(item, hidden)
        return True


def _hrefs(resource: Resource):
    for value in resource.links.values():
        for link in value if isinstance(value, list) else (value,):
            yield link.href
    for action in resource.actions:
        yield action.href
    for value in resource.embedded.values():
        for item in value if isinstance(value, list) else (value,):
            yield from _hrefs(item)
