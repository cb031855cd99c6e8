"""HAL+JSON (draft-kelly-json-hal): ``_links``, properties, ``_embedded``."""
from __future__ import annotations

from typing import Any

from .encoding import dumps
from .model import PageContext, Resource
from .renderer import Renderer


class HalJsonRenderer(Renderer):
    """Renders a resource as a HAL+JSON document."""

    media_type = "application/hal+json"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return dumps(self.document(resource))

    def document(self, resource: Resource) -> dict[str, Any]:
        """The HAL object of ``resource`` and, recursively, of what it embeds."""
        links: dict[str, Any] = resource.links  # each link is already its HAL object
        if resource.curies:
            links = {"curies": [{"name": curie.name, "href": curie.href, "templated": True}
                                for curie in resource.curies], **links}
        document: dict[str, Any] = {"_links": links} if links else {}
        document.update(resource.properties)  # dumps writes decimals exactly
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
