"""A card's state as the rules see it: its effective status on a given day.

A card is usable through the end of its expiry day, in UTC. Its stored status
stays ``active`` after that day; ``expired`` is derived, so it never needs a
job to flip it.
"""
from __future__ import annotations

import datetime
from typing import Any

import peewee

from ..errors import Conflict
from ..models import GiftCard, Transaction, utcnow
from ..money import format_cents
from .actors import shown_code

ACTIVE, DISABLED, REDEEMED, EXPIRED = "active", "disabled", "redeemed", "expired"


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def as_date(value: datetime.date | str) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def status_of(card: GiftCard, today: datetime.date | None = None) -> str:
    """The stored status, or ``expired`` for an active card past its expiry day."""
    status = card.status
    if status == ACTIVE:
        expiry = card.expiry_date
        if expiry is not None and as_date(expiry) < (today or today_utc()):
            return EXPIRED
    return status


def unexpired(today: datetime.date) -> peewee.Expression:
    """SQL: the card has not passed its expiry day (``today`` in UTC)."""
    return GiftCard.expiry_date.is_null() | (GiftCard.expiry_date >= today)


def usable(today: datetime.date) -> peewee.Expression:
    """SQL: the card is active and unexpired: the guard of every debit and reload."""
    return (GiftCard.status == ACTIVE) & unexpired(today)


# -- what may change of an issued card ---------------------------------------
#: Terms fixed once the card has a transaction beyond its issue.
TERMS_FIXED_AFTER_USE = ("single_use", "rechargeable")


def has_been_used(card: GiftCard) -> bool:
    """Whether the card has any ledger entry beyond its ``issue`` entry."""
    return (Transaction.select(Transaction.id)
            .where(Transaction.gift_card == card.id, Transaction.kind != "issue").exists())


def check_card_change(card: GiftCard, changes: dict[str, Any], today: datetime.date | None = None) -> None:
    """409 naming the rule when ``changes`` (column → new value, only the columns that
    differ) breaks what is fixed once a card is issued.

    - the issuer and the currency never change;
    - ``single_use`` and ``rechargeable`` are fixed after the first transaction beyond the issue;
    - ``balance_max`` is never below the current balance.
    """
    code = shown_code(card.card_id)
    if "issuer" in changes:
        raise Conflict(f"A card's issuer is fixed when it is issued (gift card {code!r} is "
                       f"{card.issuer.name}'s).", "issuer", logref="issuer_fixed")
    if "currency_code" in changes:
        raise Conflict(f"A card's currency is fixed when it is issued (gift card {code!r} holds "
                       f"{card.currency_code}).", "currency_code", logref="currency_fixed")
    fixed = [name for name in TERMS_FIXED_AFTER_USE if name in changes]
    if fixed and has_been_used(card):
        raise Conflict(f"Gift card {code!r} has been used: {' and '.join(fixed)} are fixed after its "
                       "first transaction beyond the issue.", fixed[0], logref="terms_fixed")
    if changes.get("balance_max") is not None and changes["balance_max"] < card.balance:
        raise _below_balance(card, changes["balance_max"])


def _below_balance(card: GiftCard, balance_max: int) -> Conflict:
    return Conflict(f"balance_max {_in(card, balance_max)} is below the balance of gift card "
                    f"{shown_code(card.card_id)!r} ({_in(card, card.balance)}); it can never be "
                    "set below the balance.", "balance_max", logref="balance_max_below_balance")


def is_extension(card: GiftCard, changes: dict[str, Any], today: datetime.date | None = None) -> bool:
    """Whether ``changes`` bring an expired card back by extending its expiry date
    (to today or later, or to never)."""
    today = today or today_utc()
    if status_of(card, today) != EXPIRED or "expiry_date" not in changes:
        return False
    new = changes["expiry_date"]
    return new is None or as_date(new) >= today


def change_card(card: GiftCard, changes: dict[str, Any]) -> GiftCard:
    """Write ``changes`` (column → new value) of ``card`` after checking the rules.

    One ``UPDATE`` of the changed columns alone (and date_modified): never the
    balance, which only the ledger writes. A change of balance_max re-checks in
    the database that it stays at or above the balance.
    """
    check_card_change(card, changes)
    if not changes:
        return card
    now = utcnow()
    columns = {getattr(GiftCard, name): value for name, value in changes.items()}
    query = GiftCard.update({**columns, GiftCard.date_modified: now}).where(GiftCard.id == card.id)
    if changes.get("balance_max") is not None:
        query = query.where(GiftCard.balance <= changes["balance_max"])
    if query.execute() != 1:  # the balance grew since it was read
        raise _below_balance(GiftCard.get_by_id(card.id), changes["balance_max"])
    for name, value in changes.items():
        setattr(card, name, value)
    card.date_modified = now
    return card


def _in(card: GiftCard, amount: int) -> str:
    """An amount in the card's currency, as text (JPY "1000", BHD "1.250")."""
    return format_cents(amount, card.currency_code)
