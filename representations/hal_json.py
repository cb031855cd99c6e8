"""HAL+JSON (draft-kelly-json-hal): ``_links``, properties, ``_embedded``."""
from __future__ import annotations

from typing import Any

from .encoding import dumps
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


def _link_or_links(value: Link | list[Link]) -> dict[str, Any] | list[dict[str, Any]]:
    return [link_object(link) for link in value] if isinstance(value, list) else link_object(value)


class HalJsonRenderer(Renderer):
    """Renders a resource as a HAL+JSON document."""

    media_type = "application/hal+json"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return dumps(self.document(resource))

    def document(self, resource: Resource) -> dict[str, Any]:
        """The HAL object of ``resource`` and, recursively, of what it embeds."""
        # The common link (plain, titled) is written inline: a page has hundreds of them.
        links: dict[str, Any] = {
            rel: {"href": value.href, "title": value.title}
            if value.__class__ is Link and value.title is not None and not value.templated
            else _link_or_links(value)
            for rel, value in resource.links.items()
        }
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
