"""HAL+JSON (draft-kelly-json-hal): ``_links``, properties, ``_embedded``."""
from __future__ import annotations

from typing import Any

from .encoding import dumps, json_properties
from .model import Link, PageContext, Resource
from .renderer import Renderer


def link_object(link: Link) -> dict[str, Any]:
    """One HAL link object."""
    document: dict[str, Any] = {"href": link.href}
    if link.title is not None:
        document["title"] = link.title
    if link.templated:
        document["templated"] = True
    return document


class HalJsonRenderer(Renderer):
    """Renders a resource as a HAL+JSON document."""

    media_type = "application/hal+json"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return dumps(self.document(resource))

    def document(self, resource: Resource) -> dict[str, Any]:
        """The HAL object of ``resource`` and, recursively, of what it embeds."""
        links: dict[str, Any] = {}
        if resource.curies:
            links["curies"] = [
                {"name": curie.name, "href": curie.href, "templated": True}
                for curie in resource.curies
            ]
        for rel, value in resource.links.items():
            if isinstance(value, list):
                links[rel] = [link_object(link) for link in value]
            else:
                links[rel] = link_object(value)
        document: dict[str, Any] = {"_links": links} if links else {}
        document.update(json_properties(resource.properties))
        if resource.embedded:
            document["_embedded"] = {
                rel: (
                    [self.document(item) for item in value]
                    if isinstance(value, list)
                    else self.document(value)
                )
                for rel, value in resource.embedded.items()
            }
        return document
