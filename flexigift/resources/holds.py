"""Authorization holds as resources: ``/holds``, ``/holds/<id>``, a card's
``/gift_cards/<id>/holds``, and the actions ``POST /gift_cards/<id>/authorize``
(201 with the hold), ``POST /holds/<id>/capture`` (201 with the redeem entry it
writes) and ``POST /holds/<id>/void`` (200 with the hold).

Each action runs in one database transaction and takes an ``Idempotency-Key``
with the semantics redeem has: a retry gets the first outcome (its status and
resource, as it is now) without a second change; the key with another request
is a 422.
"""
from __future__ import annotations

from typing import Any

import peewee
from flask import Flask, Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from representations import Action, Link

from ..action_schemas import AuthorizeSchema, CaptureSchema, VoidSchema
from ..db import database
from ..http.urls import Urls
from ..models import GiftCard, Hold, IdempotencyRecord, Product
from ..money import amounts_in, to_number
from ..query import fields as q
from ..query.zoom import Zoom
from ..registry import Relation, registry_of
from ..services import holds as hold_service
from ..services import idempotency
from ..services.actors import shown_code
from ..services.ledger import card_for_update
from .actions import ActionView, register_action
from .endpoint import MAX_ID, Endpoint
from .forms import action_fields
from .inputs import action_body, idempotency_key, idempotency_ttl
from .money import _check_possession, _payer, _product
from .present import iso
from .presenter import current_presenter
from .views import add_routes, collection_page, endpoint_named

CAPTURE_FIELDS = action_fields(CaptureSchema())
AUTHORIZE_FIELDS = action_fields(AuthorizeSchema())


class HoldSchema(Schema):
    """A hold; every field is read only (it changes only through capture and void)."""

    amount = fields.Raw(dump_only=True)
    captured = fields.Raw(dump_only=True)
    currency_code = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"options": hold_service.HOLD_STATUSES})
    order_reference = fields.String(dump_only=True)
    deadline = fields.DateTime(dump_only=True)
    idempotency_key = fields.String(dump_only=True)
    actor = fields.Dict(dump_only=True)
    id = fields.Integer(dump_only=True)
    date_created = fields.DateTime(dump_only=True)
    date_modified = fields.DateTime(dump_only=True)


def _parse_status(text: str, parameter: str) -> str:
    from ..errors import BadRequest
    if text not in hold_service.HOLD_STATUSES:
        raise BadRequest(f"Query parameter {parameter}: {text!r} is not one of "
                         f"{', '.join(hold_service.HOLD_STATUSES)}.", parameter, logref="bad_filter")
    return text


class HoldEndpoint(Endpoint):
    """An amount reserved on a card for an order, until a deadline."""

    name, kind, title = "holds", "hold", "Holds"
    model = Hold
    schema = HoldSchema()
    filterable = {
        "status": q.Custom(build=lambda op, status: hold_service.status_condition(status, op == "not"),
                           parse_value=_parse_status),
        "gift_card": q.Integer(Hold.gift_card),
        "card_id": q.Text(GiftCard.card_id),
        "order_reference": q.Text(Hold.order_reference),
        "order_id": q.Integer(Hold.order),
        "amount": q.Money(Hold.amount),
        "captured": q.Money(Hold.captured),
        "deadline": q.DateTime(Hold.deadline),
        "id": q.Integer(Hold.id),
        "date_created": q.DateTime(Hold.date_created),
    }
    code_properties = ("card_id",)
    zoomable = {
        "gift_card": Zoom("gift_card", "gift_cards", Hold.gift_card, many=False),
        "product": Zoom("product", "products", Hold.product, many=False),
    }

    def select(self):
        return Hold.select(Hold, GiftCard.id, GiftCard.card_id, GiftCard.currency_code).join(GiftCard)

    def item_title(self, hold: Hold) -> str:
        return f"hold {hold.id}"

    def properties(self, hold: Hold) -> dict[str, Any]:
        return {
            "amount": to_number(hold.amount, hold.gift_card.currency_code),
            "captured": to_number(hold.captured, hold.gift_card.currency_code),
            "currency_code": hold.gift_card.currency_code,
            "status": hold_service.hold_status(hold),
            "order_reference": hold.order_reference,
            "deadline": iso(hold.deadline),
            "idempotency_key": hold.idempotency_key,
            "actor": None if hold.actor_name is None else {"name": hold.actor_name, "role": hold.actor_role},
            "id": hold.id,
            "date_created": iso(hold.date_created),
            "date_modified": iso(hold.date_modified),
        }

    def links(self, hold: Hold, urls: Urls) -> dict[str, Link]:
        links = {"fg:gift_card": Link(urls.item("gift_cards", hold.gift_card_id),
                                      shown_code(hold.gift_card.card_id))}
        if hold.product_id is not None:
            links["fg:product"] = Link(urls.item("products", hold.product_id), "The product")
        if hold.order_id is not None:
            links["fg:order"] = Link(urls.item("orders", hold.order_id), "The order")
        if hold.status == hold_service.CAPTURED:
            links["fg:transactions"] = Link(urls.collection("transactions") + f"?hold_id={hold.id}",
                                            "The capture's ledger entry")
        status = hold_service.hold_status(hold)
        if status == hold_service.ACTIVE_HOLD:
            links["fg:capture"] = Link(urls.sub("holds", hold.id, "capture"), "Capture this hold")
        if status in (hold_service.ACTIVE_HOLD, hold_service.LAPSED):
            links["fg:void"] = Link(urls.sub("holds", hold.id, "void"), "Void this hold")
        return links

    def actions(self, hold: Hold, urls: Urls, properties: dict[str, Any]) -> list[Action]:
        actions = []
        if properties["status"] == hold_service.ACTIVE_HOLD:
            actions.append(Action("capture", urls.sub("holds", hold.id, "capture"), "POST",
                                  "Capture this hold", fields=CAPTURE_FIELDS))
        if properties["status"] in (hold_service.ACTIVE_HOLD, hold_service.LAPSED):
            actions.append(Action("void", urls.sub("holds", hold.id, "void"), "POST", "Void this hold"))
        return actions


def holds() -> HoldEndpoint:
    return endpoint_named(HoldEndpoint.name)


class HoldView(MethodView):
    """``GET /holds/<id>``."""

    def get(self, id: int) -> Response:
        presenter, endpoint = current_presenter(), holds()
        return presenter.respond(presenter.item(endpoint, endpoint.lookup(id)))


class HoldsView(MethodView):
    """``GET /holds``: every hold, filterable by status, gift_card, card_id, order_reference."""

    def get(self) -> Response:
        return collection_page(holds())


class CardHoldsView(MethodView):
    """``GET /gift_cards/<id>/holds``: a card's holds, oldest first."""

    def get(self, id: int) -> Response:
        card = card_for_update(id)
        return collection_page(holds(), scope=(Hold.gift_card == card.id),
                               title=f"Holds of gift card {shown_code(card.card_id)}")


# -- actions -----------------------------------------------------------------
class Once:
    """An action run once per ``Idempotency-Key``: its outcome is a (kind, id, status)."""

    @staticmethod
    def run(key: str | None, command: dict[str, Any], perform) -> tuple[str, int, int, bool]:
        """(resource kind, id, status, whether it is a replay)."""
        if key:
            plain = {name: value for name, value in command.items() if not isinstance(value, peewee.Model)}
            earlier = idempotency.claim(key, idempotency.fingerprint(request.method, request.path, plain),
                                       idempotency_ttl())
            if earlier is not None:
                if earlier.resource_kind is None:  # a ledger entry, as redeem records it
                    return "transactions", earlier.transaction_id, earlier.status, True
                return earlier.resource_kind, earlier.resource_id, earlier.status, True
        kind, pk, status = perform()
        if key:
            (IdempotencyRecord.update(status=status, resource_kind=kind, resource_id=pk,
                                      transaction=pk if kind == "transactions" else None)
             .where(IdempotencyRecord.key == key).execute())
        return kind, pk, status, False


def respond_with(kind: str, pk: int, status: int, replayed: bool) -> Response:
    presenter = current_presenter()
    endpoint = endpoint_named(kind)
    representation = presenter.item(endpoint, endpoint.lookup(pk))
    headers = {"Location": representation.self_href} if status == 201 else {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return presenter.respond(representation, status, headers)


class CheckoutAction(ActionView):
    """A POST that reserves or moves money, in one database transaction, optionally idempotent."""

    def post(self, id: int) -> Response:
        with amounts_in(self.currency_for(id)):
            data, links = action_body(self.schema)
        key = idempotency_key()
        with database.atomic():
            command = self.resolve(id, data, links)
            outcome = Once.run(key, command, lambda: self.perform(id, command, key))
            response = respond_with(*outcome)
        return response

    def currency_for(self, id: int) -> str | None:
        """The currency of the body's amounts (None: the target does not exist; 404 follows)."""
        return None

    def resolve(self, id: int, data: dict[str, Any], links: Any) -> dict[str, Any]:
        return data

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> tuple[str, int, int]:
        raise NotImplementedError


class AuthorizeView(CheckoutAction):
    """``POST /gift_cards/<id>/authorize``: hold an amount of the card for an order."""

    name, title, schema = "authorize", "Hold an amount of this card", AuthorizeSchema()

    def currency_for(self, id: int) -> str | None:
        return (GiftCard.select(GiftCard.currency_code).where(GiftCard.id == id).scalar()
                if 0 < id <= MAX_ID else None)

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        card = card_for_update(id)
        return "fg:gift_card", Link(urls.item("gift_cards", card.id), shown_code(card.card_id))

    def resolve(self, id: int, data: dict[str, Any], links: Any) -> dict[str, Any]:
        product: Product | None = None
        if data.get("product_id") is not None or data.get("amount") is None or links:
            product = _product(data.get("product_id"), links)
        payer = _payer(data.get("user_id"))
        _check_possession(id, payer)
        if payer is not None:
            _check_owner([id], payer)
        return {**data, "product_id": None if product is None else product.product_id, "product": product}

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> tuple[str, int, int]:
        hold = hold_service.authorize(id, command["amount"], command["product"],
                                      hold_seconds=current_app.config["FLEXIGIFT"].hold_seconds,
                                      order_reference=command.get("order_reference"), idempotency_key=key)
        return "holds", hold.id, 201


def _check_owner(card_pks: list[int], payer) -> None:
    """409 for a card not linked to the user named as paying."""
    from ..errors import Conflict
    for pk, card_id, user in (GiftCard.select(GiftCard.id, GiftCard.card_id, GiftCard.user)
                              .where(GiftCard.id.in_(card_pks)).order_by(GiftCard.id).tuples()):
        if user != payer.id:
            raise Conflict(f"Gift card {shown_code(card_id)!r} is not linked to user {payer.user_id!r}.",
                           "user_id", logref="not_the_users_card")


class HoldAction(CheckoutAction):
    def currency_for(self, id: int) -> str | None:
        return (GiftCard.select(GiftCard.currency_code).join(Hold).where(Hold.id == id).scalar()
                if 0 < id <= MAX_ID else None)

    def target(self, id: int, urls: Urls) -> tuple[str, Link]:
        hold = holds().lookup(id)
        return "fg:hold", Link(urls.item("holds", hold.id), f"hold {hold.id}")


class CaptureView(HoldAction):
    """``POST /holds/<id>/capture``: debit all or part of the hold; release the rest."""

    name, title, schema = "capture", "Capture this hold", CaptureSchema()

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> tuple[str, int, int]:
        entry = hold_service.capture(id, command["amount"], idempotency_key=key)
        return "transactions", entry.id, 201


class VoidView(HoldAction):
    """``POST /holds/<id>/void``: release all the hold reserves."""

    name, title, schema = "void", "Void this hold", VoidSchema()

    def perform(self, id: int, command: dict[str, Any], key: str | None) -> tuple[str, int, int]:
        return "holds", hold_service.void(id).id, 200


# -- cards show their holds ----------------------------------------------------
def _card_links(card: GiftCard, urls: Urls) -> dict[str, Link]:
    return {"fg:holds": Link(urls.sub("gift_cards", card.id, "holds"), "Holds on this card")}


RELATIONS = (
    Relation("holds", "Holds", "A paginated collection of authorization holds (read only): GET lists "
             "them, filterable by status (active, captured, voided, lapsed), gift_card, card_id and "
             "order_reference."),
    Relation("hold", "Hold", "An amount reserved on a card until its deadline: amount, captured, "
             "status (active, captured, voided; lapsed once past its deadline, when it reserves "
             "nothing), order_reference, deadline. Changed only by capture and void."),
    Relation("authorize", "Authorize", "Hold an amount of a card's available balance: POST amount "
             "(default: the product's price), product_id, order_reference. 201 with the hold; 409 "
             "naming why the card cannot pay. Idempotency-Key makes retries safe.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": AuthorizeSchema()}),
    Relation("capture", "Capture", "Debit all or part of what is held: POST amount (default: all "
             "of it); the rest is released. On a hold: 201 with the redeem entry (linked to the "
             "hold); on an order: 200 with the order. 409 after the deadline or once settled.",
             ("GET", "HEAD", "OPTIONS", "POST"), {"POST": CaptureSchema()}),
    Relation("void", "Void", "Release what is held: POST an empty body. 200 with the hold (or "
             "order); 409 once captured or voided.", ("GET", "HEAD", "OPTIONS", "POST"),
             {"POST": VoidSchema()}),
)


def register_holds(app: Flask) -> None:
    """Route holds and their actions; cards link their holds and offer authorize."""
    registry = registry_of(app)
    registry.add_endpoint(HoldEndpoint())
    add_routes(app, "/holds", HoldsView.as_view("holds_collection"))
    add_routes(app, "/holds/<int:id>", HoldView.as_view("holds_item"))
    add_routes(app, "/gift_cards/<int:id>/holds", CardHoldsView.as_view("gift_card_holds"))
    register_action(app, "/gift_cards/<int:id>/authorize", AuthorizeView, "gift_card_authorize")
    register_action(app, "/holds/<int:id>/capture", CaptureView, "hold_capture")
    register_action(app, "/holds/<int:id>/void", VoidView, "hold_void")
    registry.add_links("gift_card", "holds", _card_links)
    for relation in RELATIONS:
        registry.define_relation(relation)
