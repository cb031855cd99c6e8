"""Siren (https://github.com/kevinswiber/siren) in JSON.

How our model maps onto it:

- ``class`` is ``[kind]``, plus ``"collection"`` for a collection page;
  ``title`` is the resource's title when it has one; ``properties`` is always
  present, ``links`` and ``actions`` always present (``[]`` when empty).
- ``entities`` holds every embedded resource as an embedded representation,
  with ``rel`` set to the relation it is embedded under; it is present when
  the resource embeds anything, so an empty collection page has ``[]``.
- Every relation is written in full: ``fg:users`` becomes the URI its curie
  gives (the outermost resource's curies applying to everything nested);
  registered relations such as ``self`` and ``next`` stay as they are. Siren
  has no curies.
- A templated link (a URI template, which Siren has no notion of) stays in
  ``links`` marked ``"class": ["templated"]``, so a client that knows
  templates can expand it and one that does not can recognise it; when a form
  can expand it (every variable in a ``{?…}`` query expression), it is also
  offered as a GET action named after its relation, whose fields are the
  variables (:mod:`.templates`).
- An action carries ``name``, ``title`` (when set), ``method``, ``href``,
  ``type`` and ``fields``, always. A field carries ``name``, ``title`` (when
  set), ``type``, and ``value`` only when it has one: in a PUT or PATCH action
  the values are the current state, and a field that is currently empty has
  no ``value`` (some clients would post ``null`` back as the text "null").
- The items of a collection page carry their own actions.
"""
from __future__ import annotations

from typing import Any

from .encoding import dumps, json_properties, json_value
from .model import Action, Field, Link, PageContext, Resource, embedded_of, links_of
from .renderer import Renderer
from .templates import link_actions


def link_object(rel: str, link: Link) -> dict[str, Any]:
    """One Siren link; ``rel`` already expanded."""
    document: dict[str, Any] = {"rel": [rel], "href": link.href}
    if link.templated:
        document["class"] = ["templated"]
    if link.title is not None:
        document["title"] = link.title
    return document


def field_object(field: Field) -> dict[str, Any]:
    """One Siren field; ``value`` only when the field has one."""
    document: dict[str, Any] = {"name": field.name}
    if field.title is not None:
        document["title"] = field.title
    document["type"] = field.type
    if field.value is not None:
        document["value"] = json_value(field.value)
    return document


def action_object(action: Action) -> dict[str, Any]:
    """One Siren action with its fields."""
    method = action.method.upper()
    document: dict[str, Any] = {"name": action.name}
    if action.title is not None:
        document["title"] = action.title
    document.update(method=method, href=action.href, type=action.type)
    document["fields"] = [field_object(field) for field in action.fields]
    return document


class SirenRenderer(Renderer):
    """Renders a resource as a Siren entity."""

    media_type = "application/vnd.siren+json"
    shows_actions = True
    shows_item_actions = True

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return dumps(self.entity(resource))

    def entity(
        self, resource: Resource, root: Resource | None = None, rel: str | None = None
    ) -> dict[str, Any]:
        """The Siren entity of ``resource``; with ``rel``, a sub-entity embedded under it.

        ``root`` is the outermost resource, whose curies expand every relation.
        """
        root = root or resource
        document: dict[str, Any] = {"class": self.classes(resource)}
        if rel is not None:
            document["rel"] = [root.expand_rel(rel)]
        if resource.title is not None:
            document["title"] = resource.title
        document["properties"] = json_properties(resource.properties)
        if resource.embedded:
            document["entities"] = self.entities(resource, root)
        document["links"] = [
            link_object(root.expand_rel(link_rel), link)
            for link_rel, links in resource.links.items()
            for link in links_of(links)
        ]
        document["actions"] = [action_object(action)
                               for action in (*resource.actions, *link_actions(resource))]
        return document

    def entities(self, resource: Resource, root: Resource) -> list[dict[str, Any]]:
        """Every resource ``resource`` embeds, as sub-entities carrying their ``rel``."""
        return [
            self.entity(item, root, rel)
            for rel, embedded in resource.embedded.items()
            for item in embedded_of(embedded)
        ]

    @staticmethod
    def classes(resource: Resource) -> list[str]:
        """The entity's ``class``: its kind, and ``collection`` for a collection page."""
        return [resource.kind, "collection"] if resource.is_collection else [resource.kind]
