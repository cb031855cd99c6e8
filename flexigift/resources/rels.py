"""Link relations: ``GET /rels`` lists them, ``GET /rels/<name>`` documents one
(what it points to, the methods it takes, the fields each write accepts).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response

from representations import Link, Resource

from ..errors import NotFound
from ..registry import Registry, Relation, current_registry, registry_of
from .forms import describe_fields
from .presenter import current_presenter

__all__ = ["Relation", "define_resource_relations", "register_rels"]


def define_resource_relations(registry: Registry, endpoint) -> None:
    """The pair of relations every resource type has: its collection and its items."""
    name, kind, title, schema = endpoint.name, endpoint.kind, endpoint.title, endpoint.schema
    label = endpoint.label
    registry.define_relation(Relation(
        name, title,
        f"A paginated collection of {label}s. GET lists them (limit, offset, filters, order, "
        f"fields, zoom); POST creates one. The next and prev links walk by key (after or before "
        f"an item's id), so any page of a walk costs what the first does; offset jumps directly. "
        f"total_items (and the X-Total-Count header) is the exact total; a filtered collection "
        f"is counted only up to a cap, past which total_items_more_than (and the "
        f"X-Total-Count-More-Than header) says it holds more items than that.",
        ("GET", "HEAD", "OPTIONS", "POST"), {"POST": schema},
    ))
    registry.define_relation(Relation(
        kind, f"{title[:-1] if title.endswith('s') else title}",
        f"One {label}. GET shows it; PUT replaces it (omitted optional fields are cleared); "
        f"PATCH changes the fields sent; DELETE removes it where history allows.",
        ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"), {"PUT": schema, "PATCH": schema},
    ))


BUILT_IN = (
    Relation("home", "API home", "The entry point: links to every collection."),
    Relation("rels", "Link relations", "The documentation of every link relation of this API."),
    Relation("errors", "Errors", "Why a request failed: one entry per problem, each with logref, "
             "message and, where one field is at fault, field."),
)


def relation_document(relation: Relation, urls) -> Resource:
    """The representation of one relation's documentation."""
    properties: dict[str, Any] = {
        "rel": f"fg:{relation.name}",
        "uri": urls.rel(relation.name),
        "title": relation.title,
        "description": relation.description,
        "methods": list(relation.methods),
        "fields": {method: describe_fields(schema) for method, schema in relation.writes.items()},
    }
    return Resource(
        kind="relation", rel="fg:rel", properties=properties, title=f"Relation fg:{relation.name}",
        links={"self": Link(urls.rel(relation.name), f"fg:{relation.name}"),
               "fg:rels": Link(urls.collection("rels"), "All link relations")},
    )


def rels_index() -> Response:
    presenter = current_presenter()
    urls = presenter.urls
    relations = sorted(current_registry().relations.values(), key=lambda relation: relation.name)
    items = [relation_document(relation, urls) for relation in relations]
    page = Resource(
        kind="rels", rel="fg:rels", title="Link relations",
        properties={"total_items": len(items), "returned_items": len(items)},
        links={"self": Link(urls.collection("rels"), "Link relations"),
               "fg:home": Link(urls.home(), "API home")},
        embedded={"fg:rels": items}, items_rel="fg:rels",
    )
    return presenter.respond(page)


def rel_page(name: str) -> Response:
    relation = current_registry().relations.get(name)
    if relation is None:
        raise NotFound(f"There is no link relation fg:{name}; GET /rels lists them all.")
    presenter = current_presenter()
    return presenter.respond(relation_document(relation, presenter.urls))


def register_rels(app: Flask) -> None:
    registry = registry_of(app)
    for relation in BUILT_IN:
        registry.define_relation(relation)
    app.add_url_rule("/rels", "rels_index", rels_index)
    app.add_url_rule("/rels/<name>", "rel_page", rel_page)
