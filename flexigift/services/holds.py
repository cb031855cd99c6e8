"""Authorization holds: reserve an amount on a card, then capture all or part of it
(a redeem entry linked to the hold) or void it.

A hold reserves its amount while it is ``active`` and before its deadline; past
the deadline it is shown ``lapsed`` and reserves nothing, without any job having
to change its row. A card's available balance is its balance less what its
holds reserve; new holds and redemptions can spend only that, so
``0 <= available_balance <= balance`` always.

Every function runs inside the caller's database transaction. The card's row
lock (PostgreSQL's ``FOR UPDATE``; SQLite serialises write transactions) is
taken before its holds are summed, so concurrent authorizations and
redemptions of one card take turns and each sees the others' outcome. A
capture or void locks the hold's row and changes it with one conditional
``UPDATE`` (``WHERE status = 'active'``), so of a capture and a void racing,
exactly one settles the hold.
"""
from __future__ import annotations

import datetime

import peewee

from ..db import is_postgres
from ..errors import Conflict, NotFound
from ..models import GiftCard, Hold, Product, Transaction, utcnow
from ..money import format_cents
from .actors import current_actor, shown_code
from .cards import ACTIVE, REDEEMED, status_of, today_utc, usable
from .ledger import MAX_ID, _entry, _refused, card_for_update
from .payments import held_on, refusals, sql_now

ACTIVE_HOLD, CAPTURED, VOIDED, LAPSED = "active", "captured", "voided", "lapsed"
HOLD_STATUSES = (ACTIVE_HOLD, CAPTURED, VOIDED, LAPSED)
#: How long a hold reserves its amount unless configured otherwise.
DEFAULT_HOLD_SECONDS = 7 * 86_400


def hold_status(hold: Hold, now: datetime.datetime | None = None) -> str:
    """The stored status, or ``lapsed`` for an active hold past its deadline."""
    if hold.status == ACTIVE_HOLD and hold.deadline <= (now or utcnow()):
        return LAPSED
    return hold.status


def status_condition(status: str, negate: bool = False) -> peewee.Expression:
    """SQL: the hold's status (as shown) is ``status``."""
    now = sql_now()
    active = Hold.status == ACTIVE_HOLD
    condition = {ACTIVE_HOLD: active & (Hold.deadline > now),
                 LAPSED: active & (Hold.deadline <= now)}.get(status, Hold.status == status)
    return ~condition if negate else condition


def card_refusals(card: GiftCard, product: Product | None, currency: str | None,
                  today: datetime.date, held: int) -> list[str]:
    """Why ``card`` cannot pay (for ``product`` when there is one, in ``currency`` when given)."""
    if product is not None:
        reasons = refusals(card, product, today, held)
    else:
        reasons = []
        status = status_of(card, today)
        if status != ACTIVE:
            reasons.append(status)
        if card.balance - held <= 0:
            reasons.append("empty")
    if currency is not None and card.currency_code != currency and "currency" not in reasons:
        reasons.insert(0, "currency")
    return reasons


def refused(card: GiftCard, reason: str, product: Product | None, currency: str | None) -> Conflict:
    """The 409 naming the card and why it cannot pay."""
    if reason == "currency" and product is None:
        return Conflict(f"Gift card {shown_code(card.card_id)!r} holds {card.currency_code}, not {currency}.",
                        logref="currency_mismatch")
    return _refused(card, reason, product)


def short_of(card: GiftCard, amount: int, held: int) -> Conflict:
    money = card.currency_code
    holds = f" ({format_cents(held, money)} of its {format_cents(card.balance, money)} is held)" if held else ""
    return Conflict(
        f"Gift card {shown_code(card.card_id)!r} has {format_cents(card.balance - held, money)} "
        f"{money} available{holds}, less than {format_cents(amount, money)}; nothing was held.",
        "amount", logref="insufficient_balance")


def locked_card(card_pk: int) -> GiftCard:
    """The card with its row lock (PostgreSQL; SQLite's write transaction is exclusive)."""
    return card_for_update(card_pk, lock=True)


def place(card: GiftCard, amount: int, *, deadline: datetime.datetime, product: Product | None = None,
          order_reference: str | None = None, order: int | None = None,
          idempotency_key: str | None = None) -> Hold:
    """Insert a hold on a card already locked and checked."""
    actor = current_actor()
    now = utcnow()
    return Hold.create(gift_card=card.id, amount=amount, captured=0, status=ACTIVE_HOLD,
                       order_reference=order_reference, order=order,
                       product=None if product is None else product.id, deadline=deadline,
                       idempotency_key=idempotency_key, date_created=now, date_modified=now,
                       actor_name=actor.name, actor_role=actor.role, token_id=actor.token_id)


def authorize(card_pk: int, amount: int | None, product: Product | None, *, hold_seconds: int,
              order_reference: str | None = None, idempotency_key: str | None = None,
              today: datetime.date | None = None) -> Hold:
    """Reserve ``amount`` (default: the product's price) of the card's available balance.

    409 naming why the card cannot pay, or that it has less available than that.
    """
    today = today or today_utc()
    if amount is None:
        amount = product.price
    card = locked_card(card_pk)
    held = held_on(card.id)
    reasons = card_refusals(card, product, None, today, held)
    if reasons:
        raise refused(card, reasons[0], product, None)
    if card.balance - held < amount:
        raise short_of(card, amount, held)
    deadline = utcnow() + datetime.timedelta(seconds=hold_seconds)
    return place(card, amount, deadline=deadline, product=product, order_reference=order_reference,
                 idempotency_key=idempotency_key)


def locked_hold(pk: int) -> Hold:
    """The hold with its row lock (PostgreSQL), or a 404."""
    query = Hold.select().where(Hold.id == pk)
    if is_postgres():
        query = query.for_update()
    hold = query.first() if 0 < pk <= MAX_ID else None
    if hold is None:
        raise NotFound(f"There is no hold with id {pk}.")
    return hold


def _not_active(hold: Hold, doing: str) -> Conflict:
    status = hold_status(hold)
    if status == LAPSED:
        return Conflict(f"Hold {hold.id} lapsed at its deadline ({hold.deadline.isoformat()}Z); "
                        f"it cannot be {doing}. Authorize again.", logref="hold_lapsed")
    return Conflict(f"Hold {hold.id} has been {status}; it cannot be {doing}.", logref=f"hold_{status}")



def _settle(hold: Hold, status: str, captured: int, *, require_unlapsed: bool) -> bool:
    """The one conditional UPDATE that settles an active hold; whether it did."""
    condition = (Hold.id == hold.id) & (Hold.status == ACTIVE_HOLD)
    if require_unlapsed:
        condition &= Hold.deadline > utcnow()
    return bool(Hold.update(status=status, captured=captured, date_modified=utcnow())
                .where(condition).execute())


def capture(hold_pk: int, amount: int | None = None, *, idempotency_key: str | None = None,
            today: datetime.date | None = None) -> Transaction:
    """Debit ``amount`` (default: all the hold reserves) from the hold's card and release the rest.

    409 after the deadline, for a hold already captured or voided, for more than it holds,
    and when the card can no longer pay (disabled or expired since).
    """
    today = today or today_utc()
    hold = locked_hold(hold_pk)
    if hold_status(hold) != ACTIVE_HOLD:
        raise _not_active(hold, "captured")
    amount = hold.amount if amount is None else amount
    if amount > hold.amount:
        money = GiftCard.select(GiftCard.currency_code).where(GiftCard.id == hold.gift_card_id).scalar()
        raise Conflict(f"Hold {hold.id} reserves {format_cents(hold.amount, money)}, less than "
                       f"{format_cents(amount, money)}.", "amount", logref="capture_exceeds_hold")
    if not _settle(hold, CAPTURED, amount, require_unlapsed=True):
        raise _not_active(locked_hold(hold_pk), "captured")
    rows = (GiftCard
            .update(balance=GiftCard.balance - amount,
                    status=peewee.Case(None, [(GiftCard.single_use == True, REDEEMED)],  # noqa: E712
                                       GiftCard.status),
                    date_modified=utcnow())
            .where((GiftCard.id == hold.gift_card_id) & (GiftCard.balance >= amount) & usable(today))
            .returning(GiftCard.balance).tuples().execute())
    rows = list(rows)
    if not rows:
        card = card_for_update(hold.gift_card_id)
        status = status_of(card, today)
        raise _refused(card, status if status != ACTIVE else "empty")
    card_user = GiftCard.select(GiftCard.user).where(GiftCard.id == hold.gift_card_id).scalar()
    return _entry(hold.gift_card_id, "redeem", -amount, rows[0][0], product=hold.product_id,
                  user=card_user, order_reference=hold.order_reference, idempotency_key=idempotency_key,
                  hold=hold.id, order=hold.order_id)


def void(hold_pk: int) -> Hold:
    """Release all that an active (or lapsed) hold reserves; 409 once captured or voided."""
    hold = locked_hold(hold_pk)
    if hold.status != ACTIVE_HOLD or not _settle(hold, VOIDED, 0, require_unlapsed=False):
        raise _not_active(locked_hold(hold_pk), "voided")
    return Hold.get_by_id(hold.id)
