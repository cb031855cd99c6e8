"""What a role sees within the routes it may use.

An admin and a readonly token see every row. An issuer token sees its own
issuer, and that issuer's cards, products, ledger entries and their history;
anything else answers 404, so whether it exists does not leak. A checkout
token sees a card only once it can find it: linked to a user, or looked up by
its code (a grant that lasts a while); and the ledger entries of such cards,
and those it made itself.

A scope gives each kind of row as an SQL condition, used three ways: to narrow
a collection, to answer 404 for one row, and (in one query per kind) to screen
the links of a response.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable

import peewee

from ..models import (CardGrant, Change, Delivery, Event, GiftCard, Hold, Issuer, Order, Product, Transaction,
                      User, Webhook, utcnow)

#: route → the kind of row its ``id`` names (for routes whose rows a scope can hide).
ROUTE_KINDS = {
    "users_item": "user", "users_gift_cards": "user", "users_history": "user",
    "user_payment_options": "user",
    "gift_cards_item": "gift_card", "gift_card_transactions": "gift_card",
    "gift_cards_history": "gift_card", "gift_card_redeem": "gift_card", "gift_card_reload": "gift_card",
    "products_item": "product", "products_history": "product", "product_payment_options": "product",
    "issuers_item": "issuer", "issuers_gift_cards": "issuer", "issuers_products": "issuer",
    "issuers_history": "issuer", "issuer_bulk_create": "issuer", "issuer_generate_codes": "issuer",
    "transactions_item": "transaction", "transaction_refund": "transaction",
    "changes_item": "change",
    "events_item": "event",
    "webhooks_item": "webhook", "webhooks_deliveries": "webhook",
    "deliveries_item": "delivery", "delivery_redeliver": "delivery",
    "gift_card_holds": "gift_card", "gift_card_authorize": "gift_card",
    "holds_item": "hold", "hold_capture": "hold", "hold_void": "hold",
    "orders_item": "order", "order_capture": "order", "order_void": "order", "order_refund": "order",
}
MODELS = {"user": User, "gift_card": GiftCard, "product": Product, "issuer": Issuer,
          "transaction": Transaction, "change": Change, "hold": Hold, "order": Order,
          "event": Event, "webhook": Webhook, "delivery": Delivery}


class Scope:
    """Everything: what an admin or a readonly token sees."""

    restricted = False

    def where(self, kind: str) -> Any | None:
        """The condition rows of ``kind`` must meet to be seen (``None``: all are)."""
        return None

    def visible(self, kind: str, pks: Iterable[int]) -> set[int]:
        """Which of ``pks`` (rows of ``kind``) can be seen, in one query."""
        pks = set(pks)
        condition = self.where(kind)
        if condition is None or not pks:
            return pks
        model = MODELS[kind]
        return {pk for pk, in model.select(model.id).where(model.id.in_(sorted(pks)) & condition).tuples()}


def _nothing() -> Any:
    return peewee.SQL("1 = 0")


class IssuerScope(Scope):
    """An issuer's own programme and what hangs off it."""

    restricted = True

    def __init__(self, issuer_id: int | None):
        self.issuer_id = issuer_id

    def _cards(self) -> peewee.ModelSelect:
        return GiftCard.select(GiftCard.id).where(GiftCard.issuer == self.issuer_id)

    def where(self, kind: str) -> Any | None:
        if self.issuer_id is None:
            return _nothing()
        if kind == "gift_card":
            return GiftCard.issuer == self.issuer_id
        if kind == "product":
            return Product.issuer == self.issuer_id
        if kind == "issuer":
            return Issuer.id == self.issuer_id
        if kind == "transaction":
            return Transaction.gift_card.in_(self._cards())
        if kind == "event":
            return Event.issuer_id == self.issuer_id
        if kind == "webhook":
            return Webhook.issuer_id == self.issuer_id
        if kind == "delivery":
            return Delivery.webhook.in_(Webhook.select(Webhook.id).where(Webhook.issuer_id == self.issuer_id))
        if kind == "hold":
            return Hold.gift_card.in_(self._cards())
        if kind == "change":
            products = Product.select(Product.id).where(Product.issuer == self.issuer_id)
            return (((Change.resource == "gift_card") & Change.resource_id.in_(self._cards()))
                    | ((Change.resource == "product") & Change.resource_id.in_(products))
                    | ((Change.resource == "issuer") & (Change.resource_id == self.issuer_id)))
        return _nothing()


class CheckoutScope(Scope):
    """Cards a checkout can find (linked to a user, or looked up by code), and the
    ledger entries of those cards or made by this token."""

    restricted = True

    def __init__(self, token_id: int | None, now: datetime.datetime | None = None):
        self.token_id = token_id
        self.now = now or utcnow()

    def _granted(self) -> peewee.ModelSelect:
        return CardGrant.select(CardGrant.gift_card).where(
            (CardGrant.token == self.token_id) & (CardGrant.expires_at > self.now))

    def _cards(self) -> Any:
        return GiftCard.user.is_null(False) | GiftCard.id.in_(self._granted())

    def where(self, kind: str) -> Any | None:
        if kind == "gift_card":
            return self._cards()
        if kind == "transaction":
            cards = GiftCard.select(GiftCard.id).where(self._cards())
            return Transaction.gift_card.in_(cards) | (Transaction.token_id == self.token_id)
        if kind == "hold":
            cards = GiftCard.select(GiftCard.id).where(self._cards())
            return Hold.gift_card.in_(cards) | (Hold.token_id == self.token_id)
        if kind == "change":
            cards = GiftCard.select(GiftCard.id).where(self._cards())
            return (Change.resource == "user") | (
                (Change.resource == "gift_card") & Change.resource_id.in_(cards))
        if kind in ("event", "webhook", "delivery"):
            return _nothing()
        return None

    def granted(self, card_pk: int) -> bool:
        """Whether this token looked the card up by its code (lately)."""
        return CardGrant.select().where(
            (CardGrant.token == self.token_id) & (CardGrant.gift_card == card_pk)
            & (CardGrant.expires_at > self.now)).exists()


def grant(token_id: int, card_pk: int, seconds: int) -> None:
    """Let a checkout token act on a card it found by its code, for ``seconds``."""
    now = utcnow()
    expires = now + datetime.timedelta(seconds=seconds)
    CardGrant.delete().where((CardGrant.token == token_id) & (CardGrant.expires_at <= now)).execute()
    (CardGrant.insert(token=token_id, gift_card=card_pk, expires_at=expires)
     .on_conflict(conflict_target=[CardGrant.token, CardGrant.gift_card],
                  update={CardGrant.expires_at: expires})
     .execute())
