"""Payment options: which of a user's cards can pay for a product, and why the others cannot.

A card can pay when it was issued by the product's eligible issuer, that
issuer's product_code_restrictions admit the product, it is active and not
past its expiry day, it holds a positive balance and its currency is the
product's. Each usable card covers ``min(balance, price)``.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..models import GiftCard, Issuer, Product
from .cards import DISABLED, EXPIRED, REDEEMED, status_of, today_utc
from .restrictions import admits

#: Why a card cannot pay, in the order they are reported.
REASONS = ("wrong_issuer", "restricted_product", "currency", "disabled", "redeemed", "expired", "empty")


def refusals(card: GiftCard, product: Product, today: datetime.date | None = None) -> list[str]:
    """Every reason (from :data:`REASONS`) why ``card`` cannot pay for ``product``; [] if it can."""
    issuer: Issuer = product.issuer
    reasons = []
    if card.issuer_id != issuer.id:
        reasons.append("wrong_issuer")
    elif not admits(issuer.product_code_restrictions, product.product_id):
        reasons.append("restricted_product")
    if card.currency_code != issuer.currency_code:
        reasons.append("currency")
    status = status_of(card, today)
    if status in (DISABLED, REDEEMED, EXPIRED):
        reasons.append(status)
    if card.balance <= 0:
        reasons.append("empty")
    return reasons


@dataclass
class PaymentOptions:
    """The cards of one user for one product: those that can pay and those that cannot."""

    product: Product
    usable: list[tuple[GiftCard, int]] = field(default_factory=list)
    unusable: list[tuple[GiftCard, list[str]]] = field(default_factory=list)

    @property
    def total_available(self) -> int:
        """What the usable cards can cover together (each at most the price)."""
        return sum(amount for _, amount in self.usable)


def payment_options_for(user_pk: int, product: Product, today: datetime.date | None = None) -> PaymentOptions:
    """The payment options of the user with primary key ``user_pk`` for ``product`` (one query)."""
    today = today or today_utc()
    options = PaymentOptions(product)
    cards = (GiftCard.select(GiftCard, Issuer).join(Issuer)
             .where(GiftCard.user == user_pk).order_by(GiftCard.id))
    for card in cards:
        reasons = refusals(card, product, today)
        if reasons:
            options.unusable.append((card, reasons))
        else:
            options.usable.append((card, min(card.balance, product.price)))
    return options
