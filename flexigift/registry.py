"""What one application serves, in one place: its endpoints, the links other
modules add to them, the collections its home page lists, its link relations
and the body each write accepts.

``create_app`` makes one :class:`Registry` per application and every resource
module fills it from its ``register`` function, so two applications (say, one
per test, on two databases) never share state through a module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from flask import Flask
from marshmallow import Schema

from representations import Link

from .http.context import current_app as _current_app

if TYPE_CHECKING:  # pragma: no cover
    from .http.urls import Urls

EXTENSION = "flexigift"

LinkProvider = Callable[[Any, "Urls"], dict[str, Link]]


@dataclass(frozen=True)
class Relation:
    """One of our link relations (``fg:<name>``), as ``/rels/<name>`` documents it."""

    name: str
    title: str
    description: str
    methods: tuple[str, ...] = ("GET", "HEAD", "OPTIONS")
    writes: dict[str, Schema] = field(default_factory=dict)


class Registry:
    """The endpoints, relations and writes of one application."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Any] = {}
        self.home_links: list[tuple[str, str]] = []  # (name, title): fg:<name> → /<name> from GET /
        self.relations: dict[str, Relation] = {}
        self.link_providers: dict[str, dict[str, LinkProvider]] = {}
        self._providers: dict[str, tuple[LinkProvider, ...]] = {}  # kind → its providers, asked per item
        self.writes: dict[str, dict[str, Schema]] = {}  # view name → {method: schema}

    def add_endpoint(self, endpoint, *, home: bool = True) -> None:
        """Serve ``endpoint``'s kind of resource; list its collection on the home page."""
        self.endpoints[endpoint.name] = endpoint
        if home:
            self.link_from_home(endpoint.name, endpoint.title)

    def link_from_home(self, name: str, title: str) -> None:
        """Have ``GET /`` link ``/<name>`` as ``fg:<name>``."""
        if (name, title) not in self.home_links:
            self.home_links.append((name, title))

    def endpoint(self, name: str):
        return self.endpoints[name]

    def define_relation(self, relation: Relation) -> Relation:
        """Add (or replace) a relation's documentation."""
        self.relations[relation.name] = relation
        return relation

    def add_links(self, kind: str, name: str, provider: LinkProvider) -> None:
        """Have every ``kind`` resource carry the links ``provider`` gives (set once per ``name``)."""
        self.link_providers.setdefault(kind, {})[name] = provider
        self._providers.pop(kind, None)

    def providers_of(self, kind: str) -> tuple[LinkProvider, ...]:
        providers = self._providers.get(kind)
        if providers is None:
            providers = self._providers[kind] = tuple(self.link_providers.get(kind, {}).values())
        return providers

    def declare_writes(self, view: str, writes: dict[str, Schema]) -> None:
        """Say which schema each write method of the view named ``view`` accepts."""
        self.writes[view] = writes


def install(app: Flask) -> Registry:
    registry = Registry()
    app.extensions[EXTENSION] = registry
    return registry


def registry_of(app: Flask) -> Registry:
    return app.extensions[EXTENSION]


def current_registry() -> Registry:
    """The registry of the application handling this request."""
    return _current_app().extensions[EXTENSION]
