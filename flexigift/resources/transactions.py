"""The ledger as resources: ``/transactions``, ``/transactions/<id>`` and a
card's log, ``/gift_cards/<id>/transactions`` (collections with the query
layer's paging, filters, order and zoom).

Entries are append only: no route updates or deletes one (405). Their
representation depends only on the entry itself, which never changes, so an
idempotent replay of a money request shows exactly the first response.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from marshmallow import Schema, fields

from representations import Action, Link

from ..action_schemas import RefundSchema
from ..http.urls import Urls
from ..models import GiftCard, Transaction
from ..money import to_number
from ..schemas import Money
from ..query import fields as q
from ..query.zoom import Zoom
from ..registry import Relation, registry_of
from ..services.actors import shown_code
from ..services.ledger import card_for_update
from .endpoint import Endpoint
from .forms import action_fields
from .present import iso
from .presenter import current_presenter
from .views import add_routes, collection_page, endpoint_named

REFUND_FIELDS = action_fields(RefundSchema())
KINDS = ("issue", "redeem", "refund", "reload", "adjust")


class TransactionSchema(Schema):
    """A ledger entry; every field is read only."""

    kind = fields.String(dump_only=True, metadata={"options": KINDS})
    amount = Money(dump_only=True, metadata={"description": "negative for a debit"})
    balance_after = Money(dump_only=True)
    currency_code = fields.String(dump_only=True)
    order_reference = fields.String(dump_only=True)
    idempotency_key = fields.String(dump_only=True)
    reason = fields.String(dump_only=True, metadata={"description": "why an adjustment was made"})
    actor = fields.Dict(dump_only=True, metadata={"description": "who made it: the token's name and role"})
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)
    date_modified = fields.DateTime(dump_only=True)


class TransactionEndpoint(Endpoint):
    """One entry of a card's ledger: issue, redeem, refund, reload or adjust."""

    name, kind, title = "transactions", "transaction", "Transactions"
    model = Transaction
    schema = TransactionSchema()
    # Derived from the schema's fields on the model's columns; declared: the card's
    # currency and the actor's columns (the property ``actor`` is an object).
    filterable = q.derived_filters(
        schema, Transaction,
        currency_code=q.Text(GiftCard.currency_code),
        actor_name=q.Text(Transaction.actor_name),
        actor_role=q.Text(Transaction.actor_role),
        date_modified=q.DateTime(Transaction.date_created),  # an entry is never modified
        hold_id=q.Integer(Transaction.hold),
        order_id=q.Integer(Transaction.order),
    )
    zoomable = {
        "gift_card": Zoom("gift_card", "gift_cards", Transaction.gift_card, many=False),
        "product": Zoom("product", "products", Transaction.product, many=False),
        "user": Zoom("user", "users", Transaction.user, many=False),
    }

    def select(self):
        # GiftCard.id too: peewee takes the entry's gift_card_id from the joined instance
        return Transaction.select(Transaction, GiftCard.id, GiftCard.currency_code).join(GiftCard)

    def item_title(self, entry: Transaction) -> str:
        return f"{entry.kind} {entry.id}"

    def properties(self, entry: Transaction) -> dict[str, Any]:
        # An entry never changes once written: its properties are built once, for its
        # event and for the response alike (each gets a mapping of its own).
        built = entry.__dict__.get("_properties")
        if built is None:
            built = entry._properties = self._properties(entry)
        return dict(built)

    @staticmethod
    def _properties(entry: Transaction) -> dict[str, Any]:
        created = iso(entry.date_created)
        return {
            "kind": entry.kind,
            "amount": to_number(entry.amount, entry.gift_card.currency_code),
            "balance_after": to_number(entry.balance_after, entry.gift_card.currency_code),
            "currency_code": entry.gift_card.currency_code,
            "order_reference": entry.order_reference,
            "idempotency_key": entry.idempotency_key,
            "reason": entry.reason,
            "actor": None if entry.actor_name is None else {"name": entry.actor_name,
                                                            "role": entry.actor_role},
            "id": entry.id,
            "date_created": created,
            "date_modified": created,  # entries are never modified
        }

    def links(self, entry: Transaction, urls: Urls) -> dict[str, Link]:
        links = {"fg:gift_card": Link(urls.item("gift_cards", entry.gift_card_id), "The gift card")}
        if entry.product_id is not None:
            links["fg:product"] = Link(urls.item("products", entry.product_id), "The product")
        if entry.user_id is not None:
            links["fg:user"] = Link(urls.item("users", entry.user_id), "The card's user")
        if entry.refund_of_id is not None:
            links["fg:refund_of"] = Link(urls.item("transactions", entry.refund_of_id),
                                         "The redemption this refunds")
        if entry.hold_id is not None:
            links["fg:hold"] = Link(urls.item("holds", entry.hold_id), "The hold this captures")
        if entry.order_id is not None:
            links["fg:order"] = Link(urls.item("orders", entry.order_id), "The order this pays or refunds")
        if entry.kind == "redeem":
            links["fg:refund"] = Link(urls.sub("transactions", entry.id, "refund"), "Refund this redemption")
        return links

    def actions(self, entry: Transaction, urls: Urls, properties: dict[str, Any]) -> list[Action]:
        if entry.kind != "redeem":
            return []
        return [refund_action(entry.id, urls)]


def refund_action(entry_id: int, urls: Urls) -> Action:
    return Action("refund", urls.sub("transactions", entry_id, "refund"), "POST",
                  "Refund this redemption", fields=REFUND_FIELDS)


def transactions() -> TransactionEndpoint:
    """The ledger's endpoint in the current application."""
    return endpoint_named(TransactionEndpoint.name)


class TransactionView(MethodView):
    """``GET /transactions/<id>``: one ledger entry (read only)."""

    def get(self, id: int) -> Response:
        presenter, endpoint = current_presenter(), transactions()
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))


class TransactionsView(MethodView):
    """``GET /transactions``: every ledger entry (read only)."""

    def get(self) -> Response:
        return collection_page(transactions())


class CardTransactionsView(MethodView):
    """``GET /gift_cards/<id>/transactions``: a card's ledger, oldest first."""

    def get(self, id: int) -> Response:
        card = card_for_update(id)
        return collection_page(transactions(), scope=(Transaction.gift_card == card.id),
                               title=f"Transactions of gift card {shown_code(card.card_id)}")


RELATIONS = (
    Relation("transactions", "Transactions", "A paginated collection of ledger entries (read only): "
             "GET lists them, with limit, offset, filters, order, fields and zoom."),
    Relation("transaction", "Transaction", "One ledger entry: kind (issue, redeem, refund, reload, "
             "adjust), signed amount, balance_after, order_reference, idempotency_key, reason (of an "
             "adjustment). Append only: it is never updated or deleted."),
    Relation("refund_of", "Refunded redemption", "The redemption a refund entry returns money of."),
)


def register_transactions(app: Flask) -> None:
    """Route the ledger's read-only resources and let cards zoom into their log."""
    registry = registry_of(app)
    registry.add_endpoint(TransactionEndpoint())
    add_routes(app, "/transactions", TransactionsView.as_view("transactions_collection"))
    add_routes(app, "/transactions/<int:id>", TransactionView.as_view("transactions_item"))
    add_routes(app, "/gift_cards/<int:id>/transactions", CardTransactionsView.as_view("gift_card_transactions"))
    for relation in RELATIONS:
        registry.define_relation(relation)
