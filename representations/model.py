"""The internal representation: what a resource says, independent of any media type.

A resource class in the application builds one :class:`Resource` per request;
a renderer turns it into bytes. Nothing here knows about HTTP, Flask or the
database, so a renderer can be tested on a resource built by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any


class Link(dict):
    """A typed link to another resource (or a URI template when ``templated``).

    A link is the JSON object HAL writes for it: ``href``, then ``title`` when it has
    one, then ``templated`` when it is a template; read it as ``link.href``,
    ``link.title`` (None when it has none) and ``link.templated``. A page builds a few
    hundred links, and HAL+JSON writes each as it is, without a copy. It is never
    changed once made.
    """

    __slots__ = ()

    def __init__(self, href: str, title: str | None = None, templated: bool = False):
        self["href"] = href
        if title is not None:
            self["title"] = title
        if templated:
            self["templated"] = True

    href = property(itemgetter("href"))

    @property
    def title(self) -> str | None:
        return self.get("title")

    @property
    def templated(self) -> bool:
        return "templated" in self

    def __repr__(self) -> str:
        return f"Link({self.href!r}, {self.title!r}, templated={self.templated})"


@dataclass(frozen=True)
class Curie:
    """A compact URI prefix: ``fg:users`` expands to ``href`` with ``{rel}`` = ``users``."""

    name: str
    href: str

    def expand(self, rel: str) -> str:
        return self.href.replace("{rel}", rel)


@dataclass(frozen=True)
class Field:
    """One input of an action, in HTML5 terms (``type`` is an input type)."""

    name: str
    type: str = "text"
    title: str | None = None
    value: Any = None
    required: bool = False
    max_length: int | None = None
    options: tuple[str, ...] = ()
    description: str | None = None
    #: What was wrong with the value last sent (a form shown again after a 422).
    error: str | None = None


@dataclass(frozen=True)
class Action:
    """Something a client can do to a resource: a method, a target and its fields."""

    name: str
    href: str
    method: str = "POST"
    title: str | None = None
    type: str = "application/x-www-form-urlencoded"
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class PageContext:
    """What a page for people shows beside the resource itself (HTML only): who is
    signed in and how to sign out or in, the CSRF token every form must carry,
    the stylesheet, the API's home. Documents for programs ignore it."""

    csrf_token: str | None = None
    csrf_field: str = "_csrf"
    principal: str | None = None
    sign_out: str | None = None
    sign_in: str | None = None
    stylesheet: str | None = None
    home: str | None = None


@dataclass
class Resource:
    """A resource as the API shows it.

    ``kind`` names what it is (``user``, ``gift_card``, ``users``); ``rel`` is the
    relation under which it is known (``fg:user``). ``links`` maps a relation to
    one :class:`Link` or a list of them, ``embedded`` maps a relation to one
    resource or a list: the choice between one and a list belongs to the
    relation and is never made by counting. ``curies`` are set on the outermost
    resource of a document only.
    """

    kind: str
    properties: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Link | list[Link]] = field(default_factory=dict)
    embedded: dict[str, "Resource | list[Resource]"] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    rel: str | None = None
    curies: tuple[Curie, ...] = ()
    items_rel: str | None = None
    title: str | None = None

    @property
    def self_href(self) -> str | None:
        link = self.links.get("self")
        return link.href if isinstance(link, Link) else None

    @property
    def is_collection(self) -> bool:
        """A collection page: its items are embedded under ``items_rel``."""
        return self.items_rel is not None

    @property
    def items(self) -> list["Resource"]:
        if self.items_rel is None:
            return []
        items = self.embedded.get(self.items_rel, [])
        return items if isinstance(items, list) else [items]

    def expand_rel(self, rel: str) -> str:
        """The full URI of a curied relation, when one of our curies applies."""
        prefix, sep, rest = rel.partition(":")
        if sep:
            for curie in self.curies:
                if curie.name == prefix:
                    return curie.expand(rest)
        return rel


def links_of(value: Link | list[Link]) -> list[Link]:
    """The links under one relation, as a list whatever the relation's arity."""
    return value if isinstance(value, list) else [value]


def embedded_of(value: Resource | list[Resource]) -> list[Resource]:
    """The resources under one relation, as a list whatever the relation's arity."""
    return value if isinstance(value, list) else [value]


def error_document(errors: list[dict[str, Any]], rel: str = "fg:errors") -> Resource:
    """The representation of a failed request: ``total`` and one entry per problem.

    Each error is a mapping with ``logref``, ``message`` and optionally ``field``.
    """
    entries = [Resource(kind="error", properties=dict(error)) for error in errors]
    return Resource(
        kind="errors",
        properties={"total": len(entries)},
        embedded={rel: entries},
    )
