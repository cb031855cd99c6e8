"""Finding a card by its code, for the checkout (``fg:card_lookup`` from ``GET /``).

A shopper types a code at checkout. ``POST /card_lookup`` with ``{"card_id":
"…"}`` answers that card (its code masked for a checkout) with its links, the
redeem link among them, or 404. The code travels in the body, never in a URL.
A checkout token may then act on the card for a while (a grant, see
``FLEXIGIFT_LOOKUP_GRANT_SECONDS``) even though it is linked to no user.
Failed look-ups are rate limited per client address and per token, so codes
cannot be guessed.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from representations import Action, Link, Resource

from ..auth import ratelimit
from ..auth.principal import current_principal
from ..auth.roles import CHECKOUT
from ..auth.scopes import grant
from ..errors import NotFound
from ..models import GiftCard
from ..registry import Relation, registry_of
from .forms import action_fields, describe_fields
from .inputs import action_body
from .presenter import current_presenter
from .views import add_routes, endpoint_named

TITLE = "Find a gift card by its code"


class LookupSchema(Schema):
    """The code a shopper typed."""

    card_id = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={
        "title": "Card code", "max_length": 50, "input": "password",
        "description": "the code printed on the card, exactly"})


SCHEMA = LookupSchema()


def _subjects(principal) -> list[str]:
    subjects = [f"address:{request.remote_addr}"]
    if principal.token_id is not None:
        subjects.append(f"token:{principal.token_id}")
    return subjects


class CardLookupView(MethodView):
    """``/card_lookup``: GET shows the form; POST finds the card."""

    def get(self) -> Response:
        presenter = current_presenter()
        href = presenter.urls.collection("card_lookup")
        return presenter.respond(Resource(
            kind="action", title=TITLE,
            properties={"name": "card_lookup", "method": "POST", "fields": describe_fields(SCHEMA)},
            links={"self": Link(href, TITLE), "fg:home": Link(presenter.urls.home(), "API home")},
            actions=[Action("card_lookup", href, "POST", TITLE, fields=action_fields(SCHEMA))],
        ))

    def post(self) -> Response:
        principal, config = current_principal(), current_app.config["FLEXIGIFT"]
        data, _ = action_body(SCHEMA)
        if principal.means != "none":
            ratelimit.check("lookup", _subjects(principal), config.lookup_failures, "card look-ups")
        card = GiftCard.get_or_none(GiftCard.card_id == data["card_id"])
        if card is None:
            raise NotFound("No gift card has this code.", "card_id", logref="unknown_code",
                           failed_lookup=True)
        if principal.role.kind == CHECKOUT and principal.token_id is not None:
            grant(principal.token_id, card.id, config.lookup_grant_seconds)
        presenter, cards = current_presenter(), endpoint_named("gift_cards")
        representation = presenter.item(cards, cards.lookup(card.id))
        return presenter.respond(representation, headers={"Content-Location": representation.self_href})


RELATION = Relation(
    "card_lookup", "Card look-up", "Find a gift card by the code a shopper typed: POST card_id (in "
    "the body, never in a URL). 200 with the card (its code masked for a checkout token) and its "
    "redeem link, or 404. A checkout token may then act on that card for a while. Failed look-ups "
    "are rate limited (429 with Retry-After).", ("GET", "HEAD", "OPTIONS", "POST"), {"POST": SCHEMA})


def register_lookup(app: Flask) -> None:
    add_routes(app, "/card_lookup", CardLookupView.as_view("card_lookup"))
    registry = registry_of(app)
    registry.declare_writes("card_lookup", {"POST": SCHEMA})
    registry.define_relation(RELATION)
    registry.link_from_home("card_lookup", TITLE)
