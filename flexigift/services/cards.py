"""A card's state as the rules see it: its effective status on a given day.

A card is usable through the end of its expiry day, in UTC. Its stored status
stays ``active`` after that day; ``expired`` is derived, so it never needs a
job to flip it.
"""
from __future__ import annotations

import datetime

import peewee

from ..models import GiftCard

ACTIVE, DISABLED, REDEEMED, EXPIRED = "active", "disabled", "redeemed", "expired"


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def as_date(value: datetime.date | str) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def status_of(card: GiftCard, today: datetime.date | None = None) -> str:
    """The stored status, or ``expired`` for an active card past its expiry day."""
    today = today or today_utc()
    if card.status == ACTIVE and card.expiry_date is not None and as_date(card.expiry_date) < today:
        return EXPIRED
    return card.status


def unexpired(today: datetime.date) -> peewee.Expression:
    """SQL: the card has not passed its expiry day (``today`` in UTC)."""
    return GiftCard.expiry_date.is_null() | (GiftCard.expiry_date >= today)


def usable(today: datetime.date) -> peewee.Expression:
    """SQL: the card is active and unexpired: the guard of every debit and reload."""
    return (GiftCard.status == ACTIVE) & unexpired(today)
