"""Actions (redeem, refund, reload, bulk issue, generate codes): their URLs and bodies.

JSON and HAL+JSON bodies are read as sent; an HTML form's text is normalised
first (an empty box is an omitted field, a list field is comma- or
newline-separated). Then the action's schema validates it, naming every
field at fault.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields

from representations import Action, Link, Resource

from ..errors import BadRequest, ValidationFailed
from ..http.options import declare_writes
from ..http.respond import respond
from ..http.urls import Urls
from ..services.idempotency import HEADER, MAX_KEY_LENGTH
from .base import current_urls, request_body
from .forms import action_fields, describe_fields

_LIST_SEPARATORS = re.compile(r"[,\s]+")
_KEY = re.compile(r"[\x21-\x7e]+")


def action_body(schema: Schema) -> tuple[dict[str, Any], Any]:
    """The validated body, and its ``_links`` (``None`` when it has none)."""
    body, from_form = request_body()
    links = body.pop("_links", None)
    body.pop("_embedded", None)
    if from_form:
        body = _from_form(body, schema)
    try:
        return schema.load(body), links
    except ValidationError as error:
        raise ValidationFailed.from_messages(error.messages) from None


def _from_form(body: dict[str, Any], schema: Schema) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in body.items():
        field = schema.fields.get(name)
        if isinstance(field, fields.List):
            texts = value if isinstance(value, list) else [value]
            data[name] = [part for text in texts for part in _LIST_SEPARATORS.split(text) if part]
        elif value != "":
            data[name] = value
    return data


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key``, or ``None``; 400 when it is not a usable key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key) or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII "
                         "characters (a UUID is a good key).", HEADER, logref="invalid_idempotency_key")
    return key


class ActionView(MethodView):
    """The URL of an action: POST performs it; GET shows it as a form (a resource
    whose one action is this one), so the URL answers like every other.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    schema: ClassVar[Schema]

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        """The relation and link of the resource acted on (a 404 when it does not exist)."""
        raise NotImplementedError

    def get(self, id: int) -> Response:
        urls = current_urls()
        rel, link = self.target(id, urls)
        href = request.base_url
        return respond(Resource(
            kind="action", title=f"{self.title}: {link.title}",
            properties={"name": self.name, "method": "POST", "fields": describe_fields(self.schema)},
            links={"self": Link(href, self.title), rel: link},
            actions=[Action(self.name, href, "POST", self.title, fields=action_fields(self.schema))],
        ))


def add_routes(app, rule: str, view) -> None:
    """Route ``rule`` with and without a trailing slash, as every other URL is."""
    for suffix in ("", "/"):
        app.add_url_rule(f"{rule}{suffix}", view_func=view)


def register_action(app, rule: str, view_class: type[ActionView], endpoint: str) -> None:
    """Route an action's URL and declare its POST body (for OPTIONS)."""
    add_routes(app, rule, view_class.as_view(endpoint))
    declare_writes(app, endpoint, {"POST": view_class.schema})
