"""The URL of an action (redeem, refund, reload, bulk issue, generate codes…):
POST performs it; GET shows it as a form, so the URL answers like every other.

Bodies are read by :func:`.inputs.action_body`: JSON as sent, an HTML form's
text in the schema's terms, then validated by the action's schema, naming
every field at fault.
"""
from __future__ import annotations

from typing import ClassVar

from flask import Flask, Response
from flask.views import MethodView
from marshmallow import Schema

from representations import Action, Link, Resource

from ..http.urls import Urls
from ..registry import registry_of
from .forms import action_fields, describe_fields
from .presenter import current_presenter
from .views import add_routes


class ActionView(MethodView):
    """An action's URL: POST performs it; GET shows it (a resource whose one action is this one)."""

    name: ClassVar[str]
    title: ClassVar[str]
    schema: ClassVar[Schema]

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        """The relation and link of the resource acted on (a 404 when it does not exist)."""
        raise NotImplementedError

    def get(self, id: int) -> Response:
        presenter = current_presenter()
        rel, link = self.target(id, presenter.urls)
        href = presenter.urls.here()
        return presenter.respond(Resource(
            kind="action", title=f"{self.title}: {link.title}",
            properties={"name": self.name, "method": "POST", "fields": describe_fields(self.schema)},
            links={"self": Link(href, self.title), rel: link},
            actions=[Action(self.name, href, "POST", self.title, fields=action_fields(self.schema))],
        ))


def register_action(app: Flask, rule: str, view_class: type[ActionView], endpoint: str) -> None:
    """Route an action's URL and declare its POST body (for OPTIONS)."""
    add_routes(app, rule, view_class.as_view(endpoint))
    registry_of(app).declare_writes(endpoint, {"POST": view_class.schema})
