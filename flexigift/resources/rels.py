"""Link relations: ``GET /rels`` lists them, ``GET /rels/<name>`` documents one
(what it points to, the methods it takes, the fields each write accepts).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response
from marshmallow import Schema

from representations import Link, Resource

from ..errors import NotFound
from ..http.respond import respond
from .base import current_urls
from .forms import describe_fields


@dataclass(frozen=True)
class Relation:
    """One of our link relations (``fg:<name>``)."""

    name: str
    title: str
    description: str
    methods: tuple[str, ...] = ("GET", "HEAD", "OPTIONS")
    writes: dict[str, Schema] = field(default_factory=dict)


RELATIONS: dict[str, Relation] = {}


def define_relation(relation: Relation) -> Relation:
    """Add (or replace) a relation's documentation."""
    RELATIONS[relation.name] = relation
    return relation


def define_resource_relations(name: str, kind: str, title: str, schema: Schema) -> None:
    """The pair of relations every resource type has: its collection and its items."""
    label = kind.replace("_", " ")
    define_relation(Relation(
        name, title,
        f"A paginated collection of {label}s. GET lists them (limit, offset, filters, order, "
        f"fields, zoom); POST creates one.",
        ("GET", "HEAD", "OPTIONS", "POST"), {"POST": schema},
    ))
    define_relation(Relation(
        kind, f"{title[:-1] if title.endswith('s') else title}",
        f"One {label}. GET shows it; PUT replaces it (omitted optional fields are cleared); "
        f"PATCH changes the fields sent; DELETE removes it where history allows.",
        ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"), {"PUT": schema, "PATCH": schema},
    ))


define_relation(Relation("rels", "Link relations", "The documentation of every link relation of this API."))
define_relation(Relation("errors", "Errors", "Why a request failed: one entry per problem, "
                         "each with logref, message and, where one field is at fault, field."))


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
    urls = current_urls()
    items = [relation_document(relation, urls) for relation in sorted(RELATIONS.values(), key=lambda r: r.name)]
    page = Resource(
        kind="rels", rel="fg:rels", title="Link relations",
        properties={"total_items": len(items), "returned_items": len(items)},
        links={"self": Link(urls.collection("rels"), "Link relations"),
               "fg:home": Link(urls.home(), "API home")},
        embedded={"fg:rels": items}, items_rel="fg:rels", curies=(urls.curie(),),
    )
    return respond(page)


def rel_page(name: str) -> Response:
    relation = RELATIONS.get(name)
    if relation is None:
        raise NotFound(f"There is no link relation fg:{name}; GET /rels lists them all.")
    urls = current_urls()
    document = relation_document(relation, urls)
    document.curies = (urls.curie(),)
    return respond(document)


def register_rels(app: Flask) -> None:
    app.add_url_rule("/rels", "rels_index", rels_index)
    app.add_url_rule("/rels/<name>", "rel_page", rel_page)
