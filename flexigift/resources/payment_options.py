"""Payment options over HTTP: which of a user's cards can pay for a product.

Reached from either side, by templated links: ``fg:payment_options`` on a
user (``/users/<id>/payment_options{?product_id}``) and on a product
(``/products/<id>/payment_options{?user_id}``). Both answer the same
resource: the usable cards (``fg:payment_options``, each with the ``amount``
it can cover) and the others (``fg:unusable_cards``, each with its
``reasons``).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, request
from flask.views import MethodView

from representations import Link, Resource

from ..errors import BadRequest, NotFound
from ..http.urls import Urls
from ..models import GiftCard, Issuer, Product, User
from ..money import format_cents, to_number
from ..registry import Relation, registry_of
from ..services.actors import shown_code
from ..services.payments import PaymentOptions, payment_options_for
from .endpoint import MAX_ID
from .present import day
from .presenter import current_presenter
from .views import add_routes


def _parameter(name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise BadRequest(f"The query parameter {name} is required: whose payment options, for what.",
                         name, logref="missing_parameter")
    if "\x00" in value:  # no id holds it, and PostgreSQL cannot even compare it
        raise BadRequest(f"The query parameter {name} must not contain the NUL character.", name,
                         logref="bad_parameter")
    return value


def _found(row, kind: str, field: str, value):
    if row is None:
        raise NotFound(f"There is no {kind} with {field} {value!r}.", field)
    return row


def _pk(id: int) -> int:
    return id if 0 < id <= MAX_ID else 0


def _products():
    return Product.select(Product, Issuer).join(Issuer)


class UserPaymentOptionsView(MethodView):
    """``GET /users/<id>/payment_options?product_id=…``."""

    def get(self, id: int) -> Response:
        user = _found(User.get_or_none(User.id == _pk(id)), "user", "id", id)
        product_id = _parameter("product_id")
        product = _found(_products().where(Product.product_id == product_id).first(),
                         "product", "product_id", product_id)
        return _respond(user, product, current_presenter().urls.sub("users", id, "payment_options"),
                        "product_id", product_id)


class ProductPaymentOptionsView(MethodView):
    """``GET /products/<id>/payment_options?user_id=…``."""

    def get(self, id: int) -> Response:
        product = _found(_products().where(Product.id == _pk(id)).first(), "product", "id", id)
        user_id = _parameter("user_id")
        user = _found(User.get_or_none(User.user_id == user_id), "user", "user_id", user_id)
        return _respond(user, product, current_presenter().urls.sub("products", id, "payment_options"),
                        "user_id", user_id)


def _respond(user: User, product: Product, base: str, parameter: str, value: str) -> Response:
    self_href = f"{base}?{urlencode({parameter: value})}"
    presenter = current_presenter()
    return presenter.respond(represent(payment_options_for(user.id, product), user, self_href, presenter.urls))


def represent(options: PaymentOptions, user: User, self_href: str, urls: Urls) -> Resource:
    """The payment options as one resource, the cards embedded."""
    product = options.product
    return Resource(
        kind="payment_options", rel="fg:payment_options", title=f"Payment options of {user.user_id} "
                                                                 f"for {product.product_id}",
        properties={
            "user_id": user.user_id, "product_id": product.product_id,
            "price": format_cents(product.price, product.issuer.currency_code),
            "currency_code": product.issuer.currency_code, "usable_cards": len(options.usable),
            "total_available": to_number(options.total_available, product.issuer.currency_code),
        },
        links={"self": Link(self_href, "These payment options"),
               "fg:user": Link(urls.item("users", user.id), user.user_id),
               "fg:product": Link(urls.item("products", product.id), product.product_id)},
        embedded={"fg:payment_options": [_option(card, amount, urls) for card, amount in options.usable],
                  "fg:unusable_cards": [_unusable(card, reasons, urls) for card, reasons in options.unusable]},
    )


def _card_links(card: GiftCard, urls: Urls) -> dict[str, Link]:
    href = urls.item("gift_cards", card.id)
    code = shown_code(card.card_id)
    return {"self": Link(href, code), "fg:gift_card": Link(href, code)}


def _option(card: GiftCard, amount: int, urls: Urls) -> Resource:
    links = _card_links(card, urls)
    links["fg:redeem"] = Link(urls.sub("gift_cards", card.id, "redeem"), f"Pay with {shown_code(card.card_id)}")
    return Resource(kind="payment_option", rel="fg:payment_options", links=links, properties={
        "card_id": shown_code(card.card_id), "issuer": card.issuer.name,
        "balance": to_number(card.balance, card.currency_code),
        "available_balance": to_number(card.balance - getattr(card, "held", 0), card.currency_code),
        "amount": to_number(amount, card.currency_code), "currency_code": card.currency_code,
        "expiry_date": day(card.expiry_date)})


def _unusable(card: GiftCard, reasons: list[str], urls: Urls) -> Resource:
    return Resource(kind="unusable_card", rel="fg:unusable_cards", links=_card_links(card, urls),
                    properties={"card_id": shown_code(card.card_id), "issuer": card.issuer.name,
                                "balance": to_number(card.balance, card.currency_code),
                                "available_balance": to_number(card.balance - getattr(card, "held", 0),
                                                               card.currency_code),
                                "currency_code": card.currency_code, "reasons": reasons})


def _user_link(user: User, urls: Urls) -> dict[str, Link]:
    href = urls.sub("users", user.id, "payment_options") + "{?product_id}"
    return {"fg:payment_options": Link(href, "Which of this user's cards can pay for a product", True)}


def _product_link(product: Product, urls: Urls) -> dict[str, Link]:
    href = urls.sub("products", product.id, "payment_options") + "{?user_id}"
    return {"fg:payment_options": Link(href, "Which of a user's cards can pay for this product", True)}


RELATIONS = (
    Relation("payment_options", "Payment options", "Which of a user's gift cards can pay for a "
             "product, each with the amount it can cover, and which cannot, with the reasons "
             "(wrong_issuer, restricted_product, currency, disabled, redeemed, expired, empty). "
             "A URI template: from a user, give product_id; from a product, give user_id."),
    Relation("unusable_cards", "Unusable cards", "The user's cards that cannot pay for the product, "
             "each with its reasons."),
)


def register_payment_options(app: Flask) -> None:
    """Route payment options and link them from users and products."""
    add_routes(app, "/users/<int:id>/payment_options", UserPaymentOptionsView.as_view("user_payment_options"))
    add_routes(app, "/products/<int:id>/payment_options",
               ProductPaymentOptionsView.as_view("product_payment_options"))
    registry = registry_of(app)
    registry.add_links("user", "payment_options", _user_link)
    registry.add_links("product", "payment_options", _product_link)
    for relation in RELATIONS:
        registry.define_relation(relation)
