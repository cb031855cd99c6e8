"""HAL-FORMS (``application/prs.hal-forms+json``, https://rwcbook.github.io/hal-forms/):
a HAL+JSON document whose ``_templates`` describe what a client can do.

How our model maps onto it:

- The document is the HAL+JSON document of the resource, unchanged, plus
  ``_templates`` on the outermost resource when it has actions. A HAL client
  that ignores ``_templates`` reads it as HAL.
- Each action is a template: ``title``, ``method``, ``target`` (the action's
  URL), ``contentType`` (``application/json`` for a body, which is what the
  API reads natively; none for GET) and ``properties``. The first action is
  keyed ``default``, as the format asks, the others by their names (HAL-FORMS
  has no name member: the key is the name, and ``title`` tells the default
  template apart).
- A property carries ``name``, ``prompt`` (the field's title), ``type`` (an
  HTML5 input type, as in the HTML forms), ``required`` (never in a PATCH,
  which changes only what it is sent), ``maxLength``,
  ``value`` when the field has one, and ``options`` (``inline``, at most one
  picked) for a field with a fixed set of values.
- A templated link that a form can expand is offered as a GET template too
  (:mod:`.templates`), named after its relation.

The actions are the same :class:`~.model.Action` objects Siren and HTML show,
built from the same action schemas, so the three always agree.
"""
from __future__ import annotations

from typing import Any

from .encoding import dumps, json_value
from .hal_json import HalJsonRenderer
from .model import Action, Field, PageContext, Resource
from .templates import link_actions

BODY_TYPE = "application/json"


def property_object(field: Field, partial: bool = False) -> dict[str, Any]:
    """One HAL-FORMS property; in a ``partial`` template (PATCH) nothing is required."""
    document: dict[str, Any] = {"name": field.name}
    if field.title is not None:
        document["prompt"] = field.title
    document["type"] = field.type
    document["required"] = field.required and not partial
    if field.max_length is not None:
        document["maxLength"] = field.max_length
    if field.value is not None:
        document["value"] = json_value(field.value)
    if field.options:
        document["options"] = {"inline": list(field.options), "maxItems": 1}
    if field.description is not None:
        document["placeholder"] = field.description
    return document


def template_object(action: Action) -> dict[str, Any]:
    """One HAL-FORMS template."""
    method = action.method.upper()
    document: dict[str, Any] = {}
    if action.title is not None:
        document["title"] = action.title
    document.update(method=method, target=action.href)
    if method != "GET":
        document["contentType"] = BODY_TYPE
    document["properties"] = [property_object(field, method == "PATCH") for field in action.fields]
    return document


def templates(actions: list[Action]) -> dict[str, Any]:
    """The ``_templates`` object: the first action is the ``default`` one."""
    document: dict[str, Any] = {}
    for position, action in enumerate(actions):
        key = "default" if position == 0 else action.name
        if key not in document:
            document[key] = template_object(action)
    return document


class HalFormsRenderer(HalJsonRenderer):
    """Renders a resource as HAL-FORMS: HAL+JSON with ``_templates``."""

    media_type = "application/prs.hal-forms+json"
    shows_actions = True

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        document = self.document(resource)
        actions = [*resource.actions, *link_actions(resource)]
        if actions:
            document["_templates"] = templates(actions)
        return dumps(document)
