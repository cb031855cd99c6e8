"""The money actions over HTTP: redeem, reload and adjust a card, refund a redemption.

``POST /gift_cards/<id>/redeem``, ``POST /gift_cards/<id>/reload``,
``POST /gift_cards/<id>/adjust`` (an admin's correction) and
``POST /transactions/<id>/refund`` each answer 201 with the new ledger entry
(``Location``: ``/transactions/<entry id>``). An ``Idempotency-Key`` header
makes a retry of the same request return the first response without a second
change; the same key with a different request is a 422.
"""
from __future__ import annotations

from typing import Any

import peewee
from flask import Flask, Response, request

from representations import Link

from ..action_schemas import AdjustSchema, RedeemSchema, RefundSchema, ReloadSchema
from ..db import database
from ..auth.principal import current_principal
from ..auth.roles import CHECKOUT
from ..auth.scopes import CheckoutScope
from ..errors import ApiError, Forbidden, ValidationFailed
from ..http.bodies import JSON_TYPES
from ..http.urls import Urls
from ..models import GiftCard, Issuer, Product, Transaction, User
from ..money import amounts_in
from ..query.compiled import CompiledSelect
from ..registry import Relation, registry_of
from ..services import idempotency, ledger, redemptions
from ..services.actors import shown_code
from .actions import ActionView, register_action
from .endpoint import MAX_ID
from .inputs import action_body, idempotency_key, idempotency_ttl, request_body
from .links import linked_id
from .presenter import current_presenter
from .transactions import transactions

CREATED = 201


class MoneyAction(ActionView):
    """A POST that changes a balance, in one database transaction, optionally idempotent."""

    def post(self, id: int) -> Response:
        presenter, ledger_entries = current_presenter(), transactions()
        with database.atomic():
            with amounts_in(self.currency_for(id)):
                data, links = action_body(self.schema)
            key = idempotency_key()
            command = self.resolve(id, data, links)
            entry, status, replayed = self._once(id, command, key)
            if isinstance(entry, int):  # a replay: the entry written the first time
                entry = ledger_entries.lookup(entry)
            representation = presenter.item(ledger_entries, entry)
        headers = {"Location": representation.self_href}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return presenter.respond(representation, status, headers)

    def _once(self, id: int, command: dict[str, Any], key: str | None) -> tuple[Transaction | int, int, bool]:
        """Perform the action, or replay the first outcome of a key used before.

        (the new ledger entry, or the id of the one a replay returns; status; whether it is a replay)
        """
        if key:
            plain = {name: value for name, value in command.items()  # rows stand for their keys
                     if not isinstance(value, peewee.Model)}
            earlier = idempotency.claim(key, idempotency.fingerprint(request.method, request.path, plain),
                                       idempotency_ttl())
            if earlier is not None:
                return earlier.transaction_id, earlier.status, True
        entry = self.perform(id, command, key)
        if key:
            idempotency.complete(key, CREATED, entry.id)
        # As written: the entry is not read back (it carries its card's currency).
        return entry if "gift_card" in entry.__rel__ else entry.id, CREATED, False

    def currency_for(self, id: int) -> str | None:
        """The currency of the amounts in the body (None: the target does not exist; 404 follows).
        Read in the action's transaction, before the body is."""
        return None

    def resolve(self, id: int, data: dict[str, Any], links: Any) -> dict[str, Any]:
        """The request as plain values (what the idempotency fingerprint covers)."""
        return data

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> Transaction:
        raise NotImplementedError


class CardAction(MoneyAction):
    """A money action on a card."""

    def currency_for(self, id: int) -> str | None:
        return (GiftCard.select(GiftCard.currency_code).where(GiftCard.id == id).scalar()
                if 0 < id <= MAX_ID else None)

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        card = ledger.card_for_update(id)
        return "fg:gift_card", Link(urls.item("gift_cards", card.id), shown_code(card.card_id))


class RedeemView(CardAction):
    """``POST /gift_cards/<id>/redeem``: pay for a product with the card."""

    name, title, schema = "redeem", "Pay for a product with this card", RedeemSchema()
    card: GiftCard | None = None
    product: Product | None = None

    def currency_for(self, id: int) -> str | None:
        # The card the redemption debits, read (and locked) once: its currency reads the body.
        # The product the body names by product_id comes with it (checked once the body is).
        self.card, self.product = redemptions.card_to_redeem(id, _product_id_sent())
        return None if self.card is None else self.card.currency_code

    def resolve(self, id: int, data: dict[str, Any], links: Any) -> dict[str, Any]:
        product = self.product
        if product is None or links is not None or data.get("product_id") != product.product_id:
            product = _product(data.get("product_id"), links)
        payer = _payer(data.get("user_id"))
        _check_possession(id, payer)
        return {**data, "product_id": product.product_id, "product": product, "payer": payer}

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> Transaction:
        return redemptions.redeem(id, command["product"], command["amount"],
                             order_reference=command.get("order_reference"),
                             allow_partial=command["allow_partial"], idempotency_key=key,
                             payer=command["payer"], card=self.card)


def _product_id_sent() -> str | None:
    """The product_id a JSON body names, as sent (None: none, a link, or a body that its
    reading, which follows, refuses): only to read the product with the card."""
    if request.mimetype not in JSON_TYPES:
        return None
    try:
        body, _ = request_body()
    except ApiError:
        return None
    product_id = body.get("product_id")
    return product_id if isinstance(product_id, str) and "_links" not in body else None


def _payer(user_id: str | None) -> User | None:
    """The user a redemption names as paying (422 when there is no such user)."""
    if user_id is None:
        return None
    user = User.get_or_none(User.user_id == user_id)
    if user is None:
        raise ValidationFailed.single("user_id", f"There is no user with user_id {user_id!r}.")
    return user


def _check_possession(card_pk: int, payer: User | None) -> None:
    """A checkout spends a card it found by its code, or one linked to the user it names."""
    principal = current_principal()
    if principal.role.kind != CHECKOUT or payer is not None:
        return
    if isinstance(principal.scope, CheckoutScope) and principal.scope.granted(card_pk):
        return
    raise Forbidden("A checkout token may spend a card it found by its code (fg:card_lookup), or "
                    "one linked to the user it names: send user_id, the shopper paying.", "user_id",
                    logref="possession_not_proved")


#: A product with its issuer (what the payment rules read), by id or by product_id.
_PRODUCT_BY_ID = CompiledSelect(lambda hole: Product.select(Product, Issuer).join(Issuer).where(Product.id == hole))
_PRODUCT_BY_PRODUCT_ID = CompiledSelect(
    lambda hole: Product.select(Product, Issuer).join(Issuer).where(Product.product_id == hole))


def _product(product_id: str | None, links: Any) -> Product:
    """The product named by ``product_id`` or by a ``fg:product`` link; 422 when neither names one."""
    linked, pk = linked_id(links, ("fg:product", "product"), "products_item")
    if linked and pk is not None:
        product = _PRODUCT_BY_ID.first(pk) if 0 < pk <= MAX_ID else None
        if product is None:
            raise ValidationFailed.single("_links.fg:product", f"There is no product with id {pk}.")
        if product_id is not None and product.product_id != product_id:
            raise ValidationFailed.single("product_id", "Names another product than the fg:product link.")
        return product
    if product_id is None:
        raise ValidationFailed.single(
            "product_id", "Missing: name the product being paid for, by product_id or by a fg:product link.")
    product = _PRODUCT_BY_PRODUCT_ID.first(product_id)
    if product is None:
        raise ValidationFailed.single("product_id", f"There is no product with product_id {product_id!r}.")
    return product


class ReloadView(CardAction):
    """``POST /gift_cards/<id>/reload``: add money to a rechargeable card."""

    name, title, schema = "reload", "Add money to this card", ReloadSchema()

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> Transaction:
        return ledger.reload(id, command["amount"], order_reference=command.get("order_reference"),
                             idempotency_key=key)


class AdjustView(CardAction):
    """``POST /gift_cards/<id>/adjust``: an admin's correction of the balance, with its reason."""

    name, title, schema = "adjust", "Correct this card's balance", AdjustSchema()

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> Transaction:
        return ledger.adjust(id, command["amount"], command["reason"], idempotency_key=key)


class RefundView(MoneyAction):
    """``POST /transactions/<id>/refund``: return money of a redemption to its card."""

    name, title, schema = "refund", "Refund this redemption", RefundSchema()

    def currency_for(self, id: int) -> str | None:
        return (GiftCard.select(GiftCard.currency_code).join(Transaction)
                .where(Transaction.id == id).scalar() if 0 < id <= MAX_ID else None)

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        ledger_entries = transactions()
        entry = ledger_entries.lookup(id)
        return "fg:transaction", Link(urls.item("transactions", entry.id), ledger_entries.item_title(entry))

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> Transaction:
        return ledger.refund(id, command["amount"], order_reference=command.get("order_reference"),
                             idempotency_key=key)


RELATIONS = (
    Relation("redeem", "Redeem", "Pay for a product with a gift card: POST amount (default: the "
             "product's price), product_id (or a fg:product link), order_reference, allow_partial. "
             "201 with the redeem entry; 409 naming why the card cannot pay. Send an "
             "Idempotency-Key header to make retries safe.", ("GET", "HEAD", "OPTIONS", "POST"),
             {"POST": RedeemSchema()}),
    Relation("reload", "Reload", "Add money to a rechargeable card, never above its balance_max: "
             "POST amount. 201 with the reload entry.", ("GET", "HEAD", "OPTIONS", "POST"),
             {"POST": ReloadSchema()}),
    Relation("adjust", "Adjust", "An admin's correction of a card's balance, whatever its status: "
             "POST amount (signed: positive adds, negative takes away) and reason (required). Never "
             "takes the balance below zero. 201 with the adjust entry; send an Idempotency-Key header "
             "to make retries safe.", ("GET", "HEAD", "OPTIONS", "POST"), {"POST": AdjustSchema()}),
    Relation("refund", "Refund", "Return money of one redemption to its card: POST amount "
             "(default: all that is left). 201 with the refund entry.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": RefundSchema()}),
)


def register_money(app: Flask) -> None:
    """Route redeem, reload, adjust and refund."""
    register_action(app, "/gift_cards/<int:id>/redeem", RedeemView, "gift_card_redeem")
    register_action(app, "/gift_cards/<int:id>/reload", ReloadView, "gift_card_reload")
    register_action(app, "/gift_cards/<int:id>/adjust", AdjustView, "gift_card_adjust")
    register_action(app, "/transactions/<int:id>/refund", RefundView, "transaction_refund")
    registry = registry_of(app)
    for relation in RELATIONS:
        registry.define_relation(relation)
