"""Orders paid by several cards: all or nothing, in one database transaction.

Creating an order locks every card it names in one fixed order (by id), so two
orders sharing cards never wait for each other in a cycle; then charges (mode
``capture``: a redeem entry each) or holds (mode ``authorize``: a hold each)
the cards in the order given. A payment without an amount takes what its card
has available, up to what is left to pay. Any card that cannot pay refuses the
whole order (409 naming it and why); the caller's transaction then rolls every
write back.

An order's state is derived from its holds and entries: what is held, what was
paid (its redemptions) and what was refunded. Refunding returns money to the
cards in the reverse order of charging, never more than each paid.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import peewee

from .. import events
from ..db import is_postgres
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import GiftCard, Hold, Issuer, Order, Product, Transaction, utcnow
from ..money import format_cents
from .actors import current_actor, shown_code
from .cards import today_utc
from .holds import ACTIVE_HOLD, capture, card_refusals, place, refused, void
from .ledger import MAX_ID, _debit, _entry, refund, refundable
from .payments import held_on_cards, reserving

CAPTURE, AUTHORIZE = "capture", "authorize"


def _locked_cards(pks: list[int]) -> dict[int, GiftCard]:
    """The cards, locked in id order (PostgreSQL), with their issuers; 404 for one missing."""
    ordered = sorted(set(pks))
    query = (GiftCard.select(GiftCard, Issuer).join(Issuer)
             .where(GiftCard.id.in_(ordered)).order_by(GiftCard.id))
    if is_postgres():
        query = query.for_update(of=GiftCard)
    cards = {card.id: card for card in query}
    for pk in pks:
        if pk not in cards:
            raise NotFound(f"There is no gift card with id {pk}.", "payments")
    return cards


def create(order_reference: str, amount: int | None, currency: str | None, mode: str,
           product: Product | None, payments: list[dict], *, hold_seconds: int,
           idempotency_key: str | None = None, today: datetime.date | None = None) -> Order:
    """Charge or hold every card of the order, or nothing (raise, and the caller rolls back)."""
    today = today or today_utc()
    if product is not None:
        product_currency = product.issuer.currency_code
        if currency is not None and currency != product_currency:
            raise ValidationFailed.single("currency_code", f"The product is priced in {product_currency}.")
        currency = product_currency
        amount = product.price if amount is None else amount
    explicit = sum(payment["amount"] or 0 for payment in payments)
    money = lambda minor: format_cents(minor, currency)  # noqa: E731
    if explicit > amount:
        raise ValidationFailed.single("payments", f"The payments' amounts add up to {money(explicit)}, "
                                                  f"more than the order's {money(amount)}.")
    if all(payment["amount"] is not None for payment in payments) and explicit != amount:
        raise ValidationFailed.single("payments", f"The payments' amounts add up to {money(explicit)}, "
                                                  f"not the order's {money(amount)}.")
    cards = _locked_cards([payment["card_id"] for payment in payments])
    held = held_on_cards(list(cards))
    left_to_fill = amount - explicit
    shares: list[tuple[GiftCard, int]] = []
    for payment in payments:
        card = cards[payment["card_id"]]
        card_held = held.get(card.id, 0)
        share = payment["amount"]
        if share is None:
            if left_to_fill == 0:
                continue  # paid in full by the cards before it
            reasons = card_refusals(card, product, currency, today, card_held)
            if reasons:
                raise refused(card, reasons[0], product, currency)
            share = min(card.balance - card_held, left_to_fill)
            left_to_fill -= share
        else:
            reasons = card_refusals(card, product, currency, today, card_held)
            if reasons:
                raise refused(card, reasons[0], product, currency)
            if card.balance - card_held < share:
                raise _short(card, share, card_held)
        shares.append((card, share))
    if left_to_fill > 0:
        last = cards[payments[-1]["card_id"]]
        raise Conflict(f"The cards have {money(amount - left_to_fill)} {currency} available, less "
                       f"than the order's {money(amount)}; gift card {shown_code(last.card_id)!r} "
                       "was the last to pay and has nothing more available. Nothing was charged.",
                       "payments", logref="insufficient_balance")
    actor = current_actor()
    order = Order.create(order_reference=order_reference, amount=amount, currency_code=currency, mode=mode,
                         product=None if product is None else product.id, idempotency_key=idempotency_key,
                         date_created=utcnow(), actor_name=actor.name, actor_role=actor.role,
                         token_id=actor.token_id)
    deadline = utcnow() + datetime.timedelta(seconds=hold_seconds)
    for card, share in shares:
        if mode == AUTHORIZE:
            place(card, share, deadline=deadline, product=product, order_reference=order_reference,
                  order=order.id, idempotency_key=idempotency_key)
        else:
            _charge(card, share, held.get(card.id, 0), product, order, today, idempotency_key)
    events.emit("order.created", "order", order.id)
    return order


def _short(card: GiftCard, amount: int, held: int) -> Conflict:
    money = lambda minor: format_cents(minor, card.currency_code)  # noqa: E731
    holds = f" ({money(held)} of its {money(card.balance)} is held)" if held else ""
    return Conflict(f"Gift card {shown_code(card.card_id)!r} has {money(card.balance - held)} "
                    f"{card.currency_code} available{holds}, less than its payment of {money(amount)}; "
                    "nothing was charged.", "payments", logref="insufficient_balance")


def _charge(card: GiftCard, amount: int, held: int, product: Product | None, order: Order,
            today: datetime.date, key: str | None) -> Transaction:
    """Debit one card of an order (locked and checked already): a redeem entry linked to it."""
    if product is not None:
        balance_after = _debit(card, product, amount, today, held)
    else:
        rows = list(GiftCard.update(balance=GiftCard.balance - amount,
                                    status=peewee.Case(None, [(GiftCard.single_use == True, "redeemed")],  # noqa: E712
                                                       GiftCard.status),
                                    date_modified=utcnow())
                    .where((GiftCard.id == card.id) & (GiftCard.balance >= amount + held))
                    .returning(GiftCard.balance).tuples().execute())
        balance_after = rows[0][0] if rows else None
    if balance_after is None:
        raise _short(card, amount, held)
    return _entry(card.id, "redeem", -amount, balance_after, product=None if product is None else product.id,
                  user=card.user_id, order_reference=order.order_reference, idempotency_key=key, order=order.id)


# -- reading -------------------------------------------------------------------
@dataclass
class OrderState:
    held: int
    paid: int
    refunded: int
    status: str


def state_of(order: Order) -> OrderState:
    """What the order's holds reserve, what it paid and what was refunded, and its status."""
    now = utcnow()
    held = int(Hold.select(peewee.fn.COALESCE(peewee.fn.SUM(Hold.amount), 0))
               .where((Hold.order == order.id) & reserving(now)).scalar())
    paid = -int(Transaction.select(peewee.fn.COALESCE(peewee.fn.SUM(Transaction.amount), 0))
                .where((Transaction.order == order.id) & (Transaction.kind == "redeem")).scalar())
    refunded = int(Transaction.select(peewee.fn.COALESCE(peewee.fn.SUM(Transaction.amount), 0))
                   .where((Transaction.order == order.id) & (Transaction.kind == "refund")).scalar())
    # (a refund of one of its charges is the order's: ledger.refund links it)
    if held > 0:
        status = "authorized"
    elif paid == 0:
        status = "voided"
    elif refunded >= paid:
        status = "refunded"
    elif refunded > 0:
        status = "partially_refunded"
    else:
        status = "paid"
    return OrderState(held, paid, refunded, status)


def locked_order(pk: int) -> Order:
    """The order with its row lock (PostgreSQL): its captures, voids and refunds take turns."""
    query = Order.select().where(Order.id == pk)
    if is_postgres():
        query = query.for_update()
    order = query.first() if 0 < pk <= MAX_ID else None
    if order is None:
        raise NotFound(f"There is no order with id {pk}.")
    return order


def _active_holds(order: Order, lock: bool = False) -> list[Hold]:
    """The order's active holds in charging order; ``lock`` takes their row locks (PostgreSQL)."""
    now = utcnow()
    query = Hold.select().where((Hold.order == order.id) & (Hold.status == ACTIVE_HOLD)).order_by(Hold.id)
    if lock and is_postgres():
        query = query.for_update()
    return list(query), now


# -- actions -------------------------------------------------------------------
def capture_order(pk: int, amount: int | None = None, *, idempotency_key: str | None = None) -> Order:
    """Capture ``amount`` (default: all held) from the order's holds in charging order;
    a hold captured in part releases the rest; holds not needed stay active."""
    order = locked_order(pk)
    holds, now = _active_holds(order, lock=True)
    live = [hold for hold in holds if hold.deadline > now]
    # Every writer takes its locks in one order: hold before card, cards by id (as creating an
    # order does). Capturing in charging order would take the cards' locks out of id order,
    # and deadlock with an order or capture taking them in id order.
    _locked_cards([hold.gift_card_id for hold in live])
    total = sum(hold.amount for hold in live)
    if total == 0:
        raise Conflict(f"Order {order.id} holds nothing to capture.", logref="nothing_held")
    amount = total if amount is None else amount
    if amount > total:
        raise Conflict(f"Order {order.id} holds {format_cents(total, order.currency_code)} {order.currency_code}, "
                       f"less than {format_cents(amount, order.currency_code)}.",
                       "amount", logref="capture_exceeds_hold")
    left = amount
    for hold in live:
        if left == 0:
            break
        take = min(hold.amount, left)
        capture(hold.id, take, idempotency_key=idempotency_key)
        left -= take
    events.emit("order.captured", "order", order.id)
    return order


def void_order(pk: int) -> Order:
    """Release every active (or lapsed) hold of the order; 409 when none is left."""
    order = locked_order(pk)
    holds, _ = _active_holds(order)
    if not holds:
        raise Conflict(f"Order {order.id} has no active hold to void.", logref="nothing_held")
    for hold in holds:
        void(hold.id)
    events.emit("order.voided", "order", order.id)
    return order


def refund_order(pk: int, amount: int | None = None, *, idempotency_key: str | None = None) -> Order:
    """Return ``amount`` (default: all it paid and was not refunded) to the order's cards, in
    the reverse order of charging, never more than each card paid."""
    order = locked_order(pk)
    query = (Transaction.select().where((Transaction.order == order.id) & (Transaction.kind == "redeem"))
             .order_by(Transaction.id.desc()))
    if is_postgres():
        query = query.for_update()
    charges = list(query)
    # Redemption before card, cards by id (as capture_order): refunding in the reverse order of
    # charging must not take the cards' locks out of id order.
    _locked_cards([charge.gift_card_id for charge in charges])
    remaining = [(charge, refundable(charge)) for charge in charges]
    total = sum(left for _, left in remaining)
    if total == 0:
        raise Conflict(f"Order {order.id} has nothing left to refund.", logref="fully_refunded")
    amount = total if amount is None else amount
    if amount > total:
        raise Conflict(f"Only {format_cents(total, order.currency_code)} {order.currency_code} of order "
                       f"{order.id} is left to refund, less than {format_cents(amount, order.currency_code)}.",
                       "amount", logref="refund_exceeds_redemption")
    left = amount
    for charge, refundable_amount in remaining:
        if left == 0:
            break
        back = min(refundable_amount, left)
        if back:
            refund(charge.id, back, idempotency_key=idempotency_key, order=order.id)
            left -= back
    events.emit("order.refunded", "order", order.id)
    return order
