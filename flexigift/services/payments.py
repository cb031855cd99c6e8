"""Payment options: which of a user's cards can pay for a product, and why the others cannot.

A card can pay when it was issued by the product's eligible issuer, that
issuer's product_code_restrictions admit the product, it is active and not
past its expiry day, it holds a positive balance and its currency is the
product's. Each usable card covers ``min(available balance, price)``, the
available balance being the balance less what the card's active holds reserve.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import peewee

from ..models import GiftCard, Hold, Issuer, Product, utcnow
from ..query.compiled import CompiledStatement
from .cards import DISABLED, EXPIRED, REDEEMED, status_of, today_utc
from .restrictions import admits

#: Why a card cannot pay, in the order they are reported.
REASONS = ("wrong_issuer", "restricted_product", "currency", "disabled", "redeemed", "expired", "empty")


def reserving(now: datetime.datetime | None = None) -> peewee.Expression:
    """SQL: the hold still reserves its amount (active and not past its deadline)."""
    return (Hold.status == "active") & (Hold.deadline > (now or utcnow()))


_HELD_ON = CompiledStatement(lambda slot: Hold.select(peewee.fn.COALESCE(peewee.fn.SUM(Hold.amount), 0))
                             .where((Hold.gift_card == slot("card")) & (Hold.status == "active")
                                    & (Hold.deadline > slot("now"))))


def held_on(card_pk: int, now: datetime.datetime | None = None) -> int:
    """What the card's active holds reserve now (its SQL written once: every payment reads it)."""
    [(held,)] = _HELD_ON.execute(card=card_pk, now=now or utcnow()).fetchall()
    return int(held)


def held_on_cards(card_pks: list[int], now: datetime.datetime | None = None) -> dict[int, int]:
    """What the active holds of each card reserve (cards without holds: absent), in one query."""
    if not card_pks:
        return {}
    query = (Hold.select(Hold.gift_card, peewee.fn.SUM(Hold.amount))
             .where(Hold.gift_card.in_(sorted(set(card_pks))) & reserving(now))
             .group_by(Hold.gift_card).tuples())
    return {card: int(total) for card, total in query}


def sql_now() -> peewee.Node:
    """SQL: the database's clock, in UTC without an offset, as times are stored (a query
    compiled once and run many times must not carry the time it was compiled at)."""
    from ..db import is_postgres
    if is_postgres():
        return peewee.SQL("(now() AT TIME ZONE 'UTC')")
    return peewee.SQL("strftime('%Y-%m-%d %H:%M:%f', 'now')")


def held_subquery() -> peewee.Node:
    """SQL: what the active holds of the outer query's card reserve (a correlated subquery)."""
    inner = Hold.alias("reserving_hold")
    return (inner.select(peewee.fn.COALESCE(peewee.fn.SUM(inner.amount), 0))
            .where((inner.gift_card == GiftCard.id) & (inner.status == "active")
                   & (inner.deadline > sql_now())))


def refusals(card: GiftCard, product: Product, today: datetime.date | None = None, held: int = 0) -> list[str]:
    """Every reason (from :data:`REASONS`) why ``card`` cannot pay for ``product``; [] if it can
    (``held``: what its active holds reserve, which it cannot spend)."""
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
    if card.balance - held <= 0:
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
    cards = list(GiftCard.select(GiftCard, Issuer).join(Issuer)
                 .where(GiftCard.user == user_pk).order_by(GiftCard.id))
    held = held_on_cards([card.id for card in cards])
    for card in cards:
        card.held = held.get(card.id, 0)
        reasons = refusals(card, product, today, held.get(card.id, 0))
        if reasons:
            options.unusable.append((card, reasons))
        else:
            options.usable.append((card, min(card.balance - held.get(card.id, 0), product.price)))
    return options
