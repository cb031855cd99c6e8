"""Signing in to the HTML browser with a token, and out again.

``GET /sign-in`` is a form where a person pastes a token; ``POST /sign-in``
checks it and keeps it in an HttpOnly, SameSite=Strict cookie (Secure over
HTTPS), then sends the browser to the API home (303). ``POST /sign-out``
forgets it. The cookie authenticates the browser's page views and the forms of
our own pages (each carries a CSRF token); API clients keep sending
``Authorization: Bearer``.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, redirect, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from representations import Action, Link, Resource

from ..auth import ratelimit
from ..auth.guard import SESSION_COOKIE
from ..auth.tokens import holder_of, token_hash
from ..errors import Unauthorized
from ..registry import Relation, registry_of
from .forms import action_fields
from .inputs import action_body
from .presenter import current_presenter

TITLE = "Sign in with an API token"


class SignInSchema(Schema):
    """The token a person pastes."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "title": "API token", "input": "password", "max_length": 200,
        "description": "made with: flexigift token create --role <role> --name <your name>"})


SCHEMA = SignInSchema()


class SignInView(MethodView):
    """``/sign-in``: GET shows the form; POST signs the browser in."""

    def get(self) -> Response:
        presenter = current_presenter()
        href = presenter.urls.collection("sign-in")
        auth = current_app.config["FLEXIGIFT"].auth
        note = ("Paste an API token to browse the API as its role." if auth else
                "Authentication is off on this server (development): no token is needed.")
        return presenter.respond(Resource(
            kind="sign_in", title=TITLE, properties={"note": note},
            links={"self": Link(href, TITLE), "fg:home": Link(presenter.urls.home(), "API home")},
            actions=[Action("sign_in", href, "POST", "Sign in", fields=action_fields(SCHEMA))],
        ))

    def post(self) -> Response:
        data, _ = action_body(SCHEMA)
        secret = data["token"].strip()
        if holder_of(secret) is None:
            limit = current_app.config["FLEXIGIFT"].auth_failures
            subjects = [f"address:{request.remote_addr}", f"token:{token_hash(secret)}"]
            ratelimit.check("auth", subjects, limit, "authentications")
            ratelimit.record_failure("auth", subjects, limit)
            raise Unauthorized("This token is not valid: unknown, or revoked.", "token",
                               logref="invalid_token")
        response = redirect(current_presenter().urls.home(), code=303)
        guard = current_app.extensions["flexigift_guard"]
        response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="Strict",
                            secure=guard.secure(), path="/")
        return response


class SignOutView(MethodView):
    """``POST /sign-out``: forget the browser's token."""

    def post(self) -> Response:
        response = redirect(current_presenter().urls.collection("sign-in"), code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", samesite="Strict",
                               secure=current_app.extensions["flexigift_guard"].secure(), httponly=True)
        return response


def register_session(app: Flask) -> None:
    app.add_url_rule("/sign-in", view_func=SignInView.as_view("sign_in"))
    app.add_url_rule("/sign-out", view_func=SignOutView.as_view("sign_out"))
    registry = registry_of(app)
    registry.declare_writes("sign_in", {"POST": SCHEMA})
    registry.define_relation(Relation("sign_in", "Sign in", "The HTML browser's sign-in: POST a "
                                      "token; it is kept in an HttpOnly cookie.",
                                      ("GET", "HEAD", "OPTIONS", "POST"), {"POST": SCHEMA}))
