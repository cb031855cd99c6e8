"""Orders paid by several cards, as resources: ``GET /orders`` (linked from ``GET /``),
``POST /orders`` (201 with the order, all or nothing), ``GET /orders/<id>``
(linking its holds and ledger entries), and the actions ``POST
/orders/<id>/capture``, ``/void`` and ``/refund`` (200 with the order).

Create, capture and refund take an ``Idempotency-Key`` with redeem's replay
semantics (void too).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from representations import Action, Link

from ..action_schemas import CaptureSchema, OrderRefundSchema, OrderSchema, RefundSchema, VoidSchema
from ..auth.principal import current_principal
from ..currencies import ISO_4217
from ..db import database
from ..errors import NotFound
from ..http.urls import Urls
from ..models import Hold, Issuer, Order, Product, Transaction
from ..money import amounts_in, to_number
from ..query import fields as q
from ..registry import Relation, registry_of
from ..services import orders as order_service
from .actions import ActionView, register_action
from .endpoint import MAX_ID, Endpoint
from .forms import action_fields
from .holds import Once, _check_owner, respond_with
from .inputs import action_body, idempotency_key, request_body
from .money import _check_possession, _payer, _product
from .present import iso
from .views import add_routes, collection_page, endpoint_named

CAPTURE_FIELDS = action_fields(CaptureSchema())
REFUND_FIELDS = action_fields(OrderRefundSchema())


class OrderViewSchema(Schema):
    """An order as shown; every field is read only (it changes through its actions)."""

    order_reference = fields.String(dump_only=True)
    amount = fields.Raw(dump_only=True)
    currency_code = fields.String(dump_only=True)
    mode = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={
        "options": ("authorized", "paid", "partially_refunded", "refunded", "voided")})
    held = fields.Raw(dump_only=True)
    paid = fields.Raw(dump_only=True)
    refunded = fields.Raw(dump_only=True)
    idempotency_key = fields.String(dump_only=True)
    actor = fields.Dict(dump_only=True)
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)


class OrderEndpoint(Endpoint):
    """One order paid by one or more cards."""

    name, kind, title = "orders", "order", "Orders"
    model = Order
    schema = OrderViewSchema()
    filterable = {
        "order_reference": q.Text(Order.order_reference),
        "mode": q.Text(Order.mode),
        "amount": q.Money(Order.amount),
        "currency_code": q.Text(Order.currency_code),
        "id": q.Integer(Order.id),
        "date_created": q.DateTime(Order.date_created),
    }

    def item_title(self, order: Order) -> str:
        return f"order {order.order_reference}"

    def properties(self, order: Order) -> dict[str, Any]:
        state = order_service.state_of(order)
        return {
            "order_reference": order.order_reference,
            "amount": to_number(order.amount, order.currency_code),
            "currency_code": order.currency_code,
            "mode": order.mode,
            "status": state.status,
            "held": to_number(state.held, order.currency_code),
            "paid": to_number(state.paid, order.currency_code),
            "refunded": to_number(state.refunded, order.currency_code),
            "idempotency_key": order.idempotency_key,
            "actor": None if order.actor_name is None else {"name": order.actor_name, "role": order.actor_role},
            "id": order.id,
            "date_created": iso(order.date_created),
        }

    def links(self, order: Order, urls: Urls) -> dict[str, Link | list[Link]]:
        links: dict[str, Link | list[Link]] = {}
        if order.product_id is not None:
            links["fg:product"] = Link(urls.item("products", order.product_id), "The product")
        holds = [Link(urls.item("holds", pk), f"hold {pk}")
                 for pk, in Hold.select(Hold.id).where(Hold.order == order.id).order_by(Hold.id).tuples()]
        if holds:
            links["fg:hold"] = holds
        entries = [Link(urls.item("transactions", pk), f"{kind} {pk}")
                   for pk, kind in Transaction.select(Transaction.id, Transaction.kind)
                   .where(Transaction.order == order.id).order_by(Transaction.id).tuples()]
        if entries:
            links["fg:transaction"] = entries
        links["fg:holds"] = Link(urls.collection("holds") + f"?order_id={order.id}", "The order's holds")
        links["fg:transactions"] = Link(urls.collection("transactions") + f"?order_id={order.id}",
                                        "The order's ledger entries")
        for name, title in (("capture", "Capture this order"), ("void", "Void this order's holds"),
                            ("refund", "Refund this order")):
            links[f"fg:{name}"] = Link(urls.sub("orders", order.id, name), title)
        return links

    def actions(self, order: Order, urls: Urls, properties: dict[str, Any]) -> list[Action]:
        actions = []
        if properties["held"]:
            actions.append(Action("capture", urls.sub("orders", order.id, "capture"), "POST",
                                  "Capture this order", fields=CAPTURE_FIELDS))
            actions.append(Action("void", urls.sub("orders", order.id, "void"), "POST", "Void this order's holds"))
        if properties["paid"] != properties["refunded"]:
            actions.append(Action("refund", urls.sub("orders", order.id, "refund"), "POST",
                                  "Refund this order", fields=REFUND_FIELDS))
        return actions

    def create_action(self, urls: Urls) -> Action:
        return Action("create", urls.collection(self.name), "POST", "Pay an order with gift cards",
                      fields=action_fields(OrderSchema()))


def orders() -> OrderEndpoint:
    return endpoint_named(OrderEndpoint.name)


class OrderView(MethodView):
    """``GET /orders/<id>``."""

    def get(self, id: int) -> Response:
        from .presenter import current_presenter
        presenter, endpoint = current_presenter(), orders()
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))


class OrdersView(MethodView):
    """``GET /orders`` lists orders; ``POST /orders`` pays one, all or nothing."""

    def get(self) -> Response:
        from .presenter import current_presenter
        return collection_page(orders(), actions=[orders().create_action(current_presenter().urls)])

    def post(self) -> Response:
        with amounts_in(_order_currency()):
            data, links = action_body(OrderSchema())
        key = idempotency_key()
        with database.atomic():
            product = _product(data["product_id"], links) if data.get("product_id") is not None else None
            card_pks = [payment["card_id"] for payment in data["payments"]]
            _check_visible(card_pks)
            payer = _payer(data.get("user_id"))
            for pk in card_pks:
                _check_possession(pk, payer)
            if payer is not None:
                _check_owner(card_pks, payer)
            command = {**data, "product": product, "payer": payer}
            outcome = Once.run(key, command, lambda: self._create(command, key))
            return respond_with(*outcome)

    @staticmethod
    def _create(command: dict[str, Any], key: str | None) -> tuple[str, int, int]:
        order = order_service.create(
            command["order_reference"], command["amount"], command["currency_code"], command["mode"],
            command["product"], command["payments"], hold_seconds=current_app.config["FLEXIGIFT"].hold_seconds,
            idempotency_key=key)
        return "orders", order.id, 201


def _order_currency() -> str | None:
    """The currency a new order's amounts are in: its currency_code, else its product's
    (None when the body names neither usably; the schema then says what is missing)."""
    body, _ = request_body()
    asked = body.get("currency_code") if isinstance(body, dict) else None
    if isinstance(asked, str) and asked in ISO_4217:
        return asked
    if asked not in (None, ""):
        return None  # not a currency: a 422 names it
    named = body.get("product_id") if isinstance(body, dict) else None
    if isinstance(named, str) and named:
        return (Issuer.select(Issuer.currency_code).join(Product)
                .where(Product.product_id == named).scalar())
    return None


def _check_visible(card_pks: list[int]) -> None:
    """A card the principal may not see is, to it, a card that does not exist."""
    visible = current_principal().scope.visible("gift_card", card_pks)
    for pk in card_pks:
        if pk not in visible:
            raise NotFound(f"There is no gift card with id {pk}.", "payments")


class OrderAction(ActionView):
    def currency_for(self, id: int) -> str | None:
        return (Order.select(Order.currency_code).where(Order.id == id).scalar()
                if 0 < id <= MAX_ID else None)

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        order = orders().lookup(id)
        return "fg:order", Link(urls.item("orders", order.id), orders().item_title(order))

    def post(self, id: int) -> Response:
        with amounts_in(self.currency_for(id)):
            data, _ = action_body(self.schema)
        key = idempotency_key()
        with database.atomic():
            outcome = Once.run(key, data, lambda: ("orders", self.perform(id, data, key).id, 200))
            return respond_with(*outcome)


class OrderCaptureView(OrderAction):
    name, title, schema = "capture", "Capture this order", CaptureSchema()

    def perform(self, id: int, data: dict[str, Any], key: str | None) -> Order:
        return order_service.capture_order(id, data["amount"], idempotency_key=key)


class OrderVoidView(OrderAction):
    name, title, schema = "void", "Void this order's holds", VoidSchema()

    def perform(self, id: int, data: dict[str, Any], key: str | None) -> Order:
        return order_service.void_order(id)


class OrderRefundView(OrderAction):
    name, title, schema = "refund", "Refund this order", OrderRefundSchema()

    def perform(self, id: int, data: dict[str, Any], key: str | None) -> Order:
        return order_service.refund_order(id, data["amount"], idempotency_key=key)


RELATIONS = (
    Relation("orders", "Orders", "Orders paid by one or more gift cards. GET lists them; POST pays "
             "one, all or nothing: order_reference, amount (or product_id), currency_code, mode "
             "(capture: debit now; authorize: hold now), payments [{card_id, amount}] (an amount "
             "left out fills from the card's available balance, in the order given). 201 with the "
             "order; 409 naming the card that could not pay and why. Idempotency-Key makes retries "
             "safe.", ("GET", "HEAD", "OPTIONS", "POST"), {"POST": OrderSchema()}),
    Relation("order", "Order", "One order: amount, currency, mode, status, and what is held, paid "
             "and refunded; it links its holds (fg:hold) and ledger entries (fg:transaction) and "
             "offers capture, void and refund."),
    Relation("refund", "Refund", "Return money to cards. On a redemption: POST amount (default: all "
             "that is left), order_reference; 201 with the refund entry. On an order: POST amount "
             "(default: all it paid and was not refunded); the cards get it back in the reverse order "
             "of charging, never more than each paid; 200 with the order. Idempotency-Key makes "
             "retries safe.", ("GET", "HEAD", "OPTIONS", "POST"), {"POST": RefundSchema()}),
    Relation("transaction", "Transaction", "One ledger entry: kind (issue, redeem, refund, reload, "
             "adjust), signed amount, balance_after, order_reference, idempotency_key; a capture "
             "links its hold (fg:hold), an order's charge or refund its order (fg:order). Append "
             "only: it is never updated or deleted."),
)


def register_orders(app: Flask) -> None:
    """Route orders and their actions; the home page links them."""
    registry = registry_of(app)
    registry.add_endpoint(OrderEndpoint())
    add_routes(app, "/orders", OrdersView.as_view("orders_collection"))
    add_routes(app, "/orders/<int:id>", OrderView.as_view("orders_item"))
    registry.declare_writes("orders_collection", {"POST": OrderSchema()})
    register_action(app, "/orders/<int:id>/capture", OrderCaptureView, "order_capture")
    register_action(app, "/orders/<int:id>/void", OrderVoidView, "order_void")
    register_action(app, "/orders/<int:id>/refund", OrderRefundView, "order_refund")
    for relation in RELATIONS:
        registry.define_relation(relation)
