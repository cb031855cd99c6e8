"""The API home, ``GET /``: where a client that knows nothing else starts."""
from __future__ import annotations

from flask import Flask, Response

import flexigift
from representations import Link, Resource

from ..registry import current_registry
from .presenter import current_presenter


def home() -> Response:
    presenter = current_presenter()
    urls = presenter.urls
    links = {"self": Link(urls.home(), "Flexigift API home")}
    for name, title in current_registry().home_links:
        links[f"fg:{name}"] = Link(urls.collection(name), title)
    links["fg:rels"] = Link(urls.collection("rels"), "Link relations (documentation)")
    links["service-desc"] = Link(urls.collection("openapi.json"), "OpenAPI 3.1 description of this API")
    links["fg:postman"] = Link(urls.collection("postman.json"), "Postman collection of this API")
    document = Resource(
        kind="api_home", rel="fg:home", title="Flexigift API",
        properties={
            "name": "Flexigift",
            "version": flexigift.__version__,
            "description": "Spend third-party gift cards at a marketplace checkout.",
        },
        links=links,
    )
    return presenter.respond(document)


def register_home(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
