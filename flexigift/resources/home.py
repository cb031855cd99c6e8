"""The API home, ``GET /``: where a client that knows nothing else starts."""
from __future__ import annotations

from flask import Flask, Response

import flexigift
from representations import Link, Resource

from ..http.respond import respond
from .base import current_urls
from .rels import Relation, define_relation

define_relation(Relation("home", "API home", "The entry point: links to every collection."))

#: (collection, title) for every collection the home page links to, in order.
COLLECTIONS: list[tuple[str, str]] = []


def home() -> Response:
    urls = current_urls()
    links = {"self": Link(urls.home(), "Flexigift API home")}
    for name, title in COLLECTIONS:
        links[f"fg:{name}"] = Link(urls.collection(name), title)
    links["fg:rels"] = Link(urls.collection("rels"), "Link relations (documentation)")
    document = Resource(
        kind="api_home", rel="fg:home", title="Flexigift API",
        properties={
            "name": "Flexigift",
            "version": flexigift.__version__,
            "description": "Spend third-party gift cards at a marketplace checkout.",
        },
        links=links,
    )
    return respond(document)


def register_home(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
