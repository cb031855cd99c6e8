"""Plain JSON: the properties alone, as the Flexigift tutorials show them.

No links. A collection page is the array of its items (the paging facts travel
in HTTP headers). Embedded resources appear under their relation's name
without the curie prefix, or under the full relation where that name is
already a property.
"""
from __future__ import annotations

from typing import Any

from .encoding import dumps, json_properties
from .model import PageContext, Resource
from .renderer import Renderer


class PlainJsonRenderer(Renderer):
    """Renders a resource as plain JSON."""

    media_type = "application/json"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return dumps(self.document(resource))

    def document(self, resource: Resource) -> Any:
        """A JSON value for ``resource``: an object, or an array for a collection."""
        if resource.is_collection:
            return [self.document(item) for item in resource.items]
        document = json_properties(resource.properties)
        for rel, value in resource.embedded.items():
            name = rel.partition(":")[2] or rel
            if name in document:
                name = rel
            if isinstance(value, list):
                document[name] = [self.document(item) for item in value]
            else:
                document[name] = self.document(value)
        return document
