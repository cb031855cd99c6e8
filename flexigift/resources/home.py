"""The API home, ``GET /``: where a client that knows nothing else starts."""
from __future__ import annotations

from flask import Flask, Response

import flexigift
from representations import Link, Resource

from ..http.respond import respond
from ..query.pagination import MAX_LINK_HEADER
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
    document = presenter.finish(document)  # screened: the header names only what the token may follow
    header = link_header(document.links, urls.rel)
    return respond(document, headers={"Link": header} if header is not None else None)


def link_header(links: dict[str, Link], expand) -> str | None:
    """The home's links as an RFC 8288 ``Link`` header, for clients whose media type has no
    links in the body (plain JSON): a curied rel (``fg:users``) is written as the URI it
    stands for (``expand("users")``), since a header has no curies."""
    parts = []
    for rel, link in links.items():
        if rel == "self":
            continue
        prefix, _, name = rel.partition(":")
        relation = expand(name) if prefix == "fg" and name else rel
        title = (link.title or "").replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'<{link.href}>; rel="{relation}"; title="{title}"')
    value = ", ".join(parts)
    return value if len(value) <= MAX_LINK_HEADER else None  # (a long public URL) the body keeps them


def register_home(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
