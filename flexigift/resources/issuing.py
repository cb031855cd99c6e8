"""Issuing cards in bulk over HTTP, an issuer's two actions:

- ``POST /issuers/<id>/bulk_create`` (``fg:bulk_create``):
  ``{"card_ids": [...], "balance": 100}`` issues one card per card_id;
- ``POST /issuers/<id>/generate_codes`` (``fg:generate_codes``): ``length``
  (default 6, prefix included), ``number_of_codes`` (default 10), ``prefix``
  and ``balance`` (default 0) issue cards with random codes.

Both answer 201 with what was issued (``count`` and the ``card_ids``) and a
link to the issuer's cards (``/issuers/<id>/gift_cards``), where ``Location``
points too. GET on either URL shows the action's form. Both take an
``Idempotency-Key`` header, so a retry after a lost answer never issues twice.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from representations import Action, Link, Resource

from ..action_schemas import BulkCreateSchema, GenerateCodesSchema
from ..db import database
from ..errors import NotFound
from ..http.urls import Urls
from ..models import Issuer
from ..money import amounts_in, to_number
from ..registry import Relation, registry_of
from ..services import idempotency
from ..services.actors import shown_code
from ..services.issuing import KEEP, CardTerms, generate_cards, issue_cards, issued_with_key
from .actions import ActionView, register_action
from .endpoint import MAX_ID
from .forms import action_fields
from .inputs import action_body, idempotency_key, idempotency_ttl
from .presenter import current_presenter

TERMS = ("balance", "single_use", "rechargeable", "balance_max")
CREATED = 201
GENERATE_DEFAULTS = {"length": 6, "number_of_codes": 10, "balance": 0}
GENERATE_FIELDS = action_fields(GenerateCodesSchema(), GENERATE_DEFAULTS)
BULK_FIELDS = action_fields(BulkCreateSchema(), {"balance": 0})


def issuer_actions(issuer_id: int, urls: Urls) -> list[Action]:
    """The issuer's bulk actions, for its representation."""
    return [
        Action("generate_codes", urls.sub("issuers", issuer_id, "generate_codes"), "POST",
               "Generate gift card codes", fields=GENERATE_FIELDS),
        Action("bulk_create", urls.sub("issuers", issuer_id, "bulk_create"), "POST",
               "Issue gift cards from a list of card_ids", fields=BULK_FIELDS),
    ]


def issuer_action_links(issuer_id: int, urls: Urls) -> dict[str, Link]:
    return {
        "fg:generate_codes": Link(urls.sub("issuers", issuer_id, "generate_codes"), "Generate gift card codes"),
        "fg:bulk_create": Link(urls.sub("issuers", issuer_id, "bulk_create"),
                               "Issue gift cards from a list of card_ids"),
    }


def issuer_or_404(id: int) -> Issuer:
    issuer = Issuer.get_or_none(Issuer.id == id) if 0 < id <= MAX_ID else None
    if issuer is None:
        raise NotFound(f"There is no issuer with id {id}.")
    return issuer


def terms_from(data: dict[str, Any]) -> CardTerms:
    return CardTerms(expiry_date=data.get("expiry_date", KEEP), **{key: data[key] for key in TERMS})


def issued(issuer: Issuer, card_ids: list[str], terms: CardTerms, urls: Urls) -> Resource:
    """What a bulk issue created."""
    cards = urls.sub("issuers", issuer.id, "gift_cards")
    return Resource(
        kind="issued_gift_cards", title=f"{len(card_ids)} gift cards issued by {issuer.name}",
        properties={"count": len(card_ids), "issuer": issuer.name,
                    "balance": to_number(terms.balance, issuer.currency_code),
                    "currency_code": issuer.currency_code,
                    "card_ids": [shown_code(card_id) for card_id in card_ids]},
        links={"self": Link(cards, f"Gift cards of {issuer.name}"),
               "fg:gift_cards": Link(cards, f"Gift cards of {issuer.name}"),
               "fg:issuer": Link(urls.item("issuers", issuer.id), issuer.name)},
    )


class IssuerAction(ActionView):
    """An action on an issuer's programme."""

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        issuer = issuer_or_404(id)
        return "fg:issuer", Link(urls.item("issuers", issuer.id), issuer.name)


class IssueAction(IssuerAction):
    """A POST that issues cards, all or nothing, optionally idempotent.

    With an ``Idempotency-Key``, a retry of the same request answers what the
    first one issued (read back from the issue entries, which carry the key)
    instead of issuing again; the same key with another body is a 422.
    """

    def post(self, id: int) -> Response:
        owner = Issuer.get_or_none(Issuer.id == id) if 0 < id <= 2**31 - 1 else None
        with amounts_in(owner.currency_code if owner is not None else None):
            data, _ = action_body(self.schema)
        key = idempotency_key()
        terms = terms_from(data)
        with database.atomic():
            issuer = issuer_or_404(id)
            earlier = key and idempotency.claim(key, idempotency.fingerprint(request.method, request.path, data),
                                                idempotency_ttl())
            if earlier:
                card_ids = issued_with_key(key, since=earlier.date_created)
            else:
                card_ids = self.issue(issuer, data, terms, key)
                if key:
                    idempotency.complete(key, CREATED, None)
        presenter = current_presenter()
        representation = issued(issuer, card_ids, terms, presenter.urls)
        headers = {"Location": representation.self_href}
        if earlier:
            headers["Idempotent-Replayed"] = "true"
        return presenter.respond(representation, CREATED, headers)

    def issue(self, issuer: Issuer, data: dict[str, Any], terms: CardTerms, key: str | None) -> list[str]:
        raise NotImplementedError


class BulkCreateView(IssueAction):
    """``POST /issuers/<id>/bulk_create``: one card per card_id, all or nothing."""

    name, title, schema = "bulk_create", "Issue gift cards from a list of card_ids", BulkCreateSchema()

    def issue(self, issuer: Issuer, data: dict[str, Any], terms: CardTerms, key: str | None) -> list[str]:
        issue_cards(issuer, data["card_ids"], terms, idempotency_key=key)
        return data["card_ids"]


class GenerateCodesView(IssueAction):
    """``POST /issuers/<id>/generate_codes``: cards with random codes, all or nothing."""

    name, title, schema = "generate_codes", "Generate gift card codes", GenerateCodesSchema()

    def issue(self, issuer: Issuer, data: dict[str, Any], terms: CardTerms, key: str | None) -> list[str]:
        return generate_cards(issuer, length=data["length"], count=data["number_of_codes"],
                              prefix=data["prefix"], terms=terms, idempotency_key=key)


RELATIONS = (
    Relation("generate_codes", "Generate codes", "Issue gift cards with random codes: POST length "
             "(default 6, prefix included), number_of_codes (default 10, at most 100,000), prefix, "
             "balance (default 0). Codes avoid 0/O and 1/I/l. All or nothing; 201 lists the codes. "
             "Send an Idempotency-Key header to make retries safe.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": GenerateCodesSchema()}),
    Relation("bulk_create", "Bulk create", "Issue one gift card per card_id: POST card_ids and "
             "balance. All or nothing: a card_id already taken is a 409 and nothing is issued. "
             "Send an Idempotency-Key header to make retries safe.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": BulkCreateSchema()}),
)


def register_issuing(app: Flask) -> None:
    """Route the issuer's bulk actions."""
    register_action(app, "/issuers/<int:id>/bulk_create", BulkCreateView, "issuer_bulk_create")
    register_action(app, "/issuers/<int:id>/generate_codes", GenerateCodesView, "issuer_generate_codes")
    registry = registry_of(app)
    for relation in RELATIONS:
        registry.define_relation(relation)
