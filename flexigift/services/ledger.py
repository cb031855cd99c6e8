"""The ledger: every change of a card's balance after it is issued.

Redeem, refund, reload and adjust each change the balance with ONE conditional
``UPDATE`` (the condition re-checks, in the database, everything the change
needs: enough balance, an active unexpired card, room under balance_max for a
reload; a refund is never limited by balance_max, only by MAX_CENTS) and
write exactly one transaction entry. Callers run them inside one database
transaction (``database.atomic()``), so a refusal raised here leaves nothing
written. Concurrent requests cannot overdraw a card: the row lock the UPDATE
takes serialises them, and each re-evaluates the condition on the committed
balance (SQLite serialises whole write transactions with ``BEGIN IMMEDIATE``).

A redemption lives in :mod:`.redemptions`, which writes its entry with
:func:`entry_values` and :func:`written_entry`.

Invariant, for every card: ``balance == initial_balance + sum(amounts of the
entries after its issue entry)`` and ``balance >= 0``.
"""
from __future__ import annotations

import datetime

import peewee

from .. import events
from ..db import is_postgres
from ..errors import Conflict, NotFound
from ..models import GiftCard, Issuer, Product, Transaction, utcnow
from ..money import MAX_CENTS, format_cents
from ..query.compiled import CompiledSelect, CompiledStatement
from .actors import current_actor, shown_code
from .cards import ACTIVE, REDEEMED, status_of, today_utc, usable
from .payments import held_on

#: The largest id a row can have (PostgreSQL's ``serial``).
MAX_ID = 2**31 - 1
#: The 409 logref of each reason a card cannot pay (services.payments.REASONS).
LOGREFS = {
    "wrong_issuer": "wrong_issuer",
    "restricted_product": "restricted_product",
    "currency": "currency_mismatch",
    "disabled": "card_disabled",
    "redeemed": "card_redeemed",
    "expired": "card_expired",
    "empty": "insufficient_balance",
}


_CARD = CompiledSelect(lambda hole: GiftCard.select(GiftCard, Issuer).join(Issuer).where(GiftCard.id == hole))
_CARD_LOCKED = CompiledSelect(lambda hole: GiftCard.select(GiftCard, Issuer).join(Issuer)
                              .where(GiftCard.id == hole).for_update(of=GiftCard))


def card_for_update(pk: int, lock: bool = False) -> GiftCard:
    """The card with its issuer, or a 404; ``lock`` takes its row lock (PostgreSQL)."""
    card = card_or_none(pk, lock)
    if card is None:
        raise NotFound(f"There is no gift card with id {pk}.")
    return card


def card_or_none(pk: int, lock: bool = False) -> GiftCard | None:
    """:func:`card_for_update`, with None for a card that does not exist."""
    query = _CARD_LOCKED if lock and is_postgres() else _CARD
    return query.first(pk) if 0 < pk <= MAX_ID else None


def _refused(card: GiftCard, reason: str, product: Product | None = None) -> Conflict:
    messages = {
        "wrong_issuer": lambda: f"is issued by {card.issuer.name}; {_named(product)} can be bought "
                                f"only with {product.issuer.name} cards",
        "restricted_product": lambda: f"cannot buy {_named(product)}: {card.issuer.name}'s "
                                      "product_code_restrictions do not admit it",
        "currency": lambda: f"holds {card.currency_code}; {_named(product)} is priced in "
                            f"{product.issuer.currency_code}",
        "disabled": lambda: "is disabled",
        "redeemed": lambda: "is single-use and has been redeemed",
        "expired": lambda: f"expired at the end of {card.expiry_date}",
        "empty": lambda: "has no balance left",
    }
    return Conflict(f"Gift card {shown_code(card.card_id)!r} {messages[reason]()}.", logref=LOGREFS[reason])


def _named(product: Product) -> str:
    return f"product {product.product_id!r}"


_ENTRY_DETAILS = ("product", "user", "order_reference", "idempotency_key", "refund_of", "hold", "order", "reason")
_ACTOR = ("actor_name", "actor_role", "token_id")
_INSERT_ENTRY = CompiledStatement(lambda slot: Transaction.insert(
    gift_card=slot("gift_card"), kind=slot("kind"), amount=slot("amount"),
    balance_after=slot("balance_after"), date_created=slot("date_created"),
    **{name: slot(name) for name in (*_ENTRY_DETAILS, *_ACTOR)}).returning(Transaction.id))


def _entry(card_pk: int, kind: str, amount: int, balance_after: int, currency_code: str | None = None,
           issuer_id: int | None = None, **details) -> Transaction:
    """Append one ledger entry, made by the current actor (``details``: product, user,
    order_reference, idempotency_key, refund_of, hold, order, reason).

    The entry comes back as written, never read back: with the card's
    ``currency_code`` it holds all its representation shows (and with its
    ``issuer_id`` too, all its event needs: the card is not read again).
    """
    values = entry_values(card_pk, kind, amount, balance_after, **details)
    [(entry_id,)] = _INSERT_ENTRY.execute(**values).fetchall()
    return written_entry(entry_id, values, currency_code, issuer_id)


def entry_values(card_pk: int, kind: str, amount: int, balance_after: int | None, **details) -> dict:
    """The columns of a new ledger entry made by the current actor (see :func:`_entry`)."""
    actor = current_actor()
    values = {name: details.get(name) for name in _ENTRY_DETAILS}
    values.update(gift_card=card_pk, kind=kind, amount=amount, balance_after=balance_after,
                  date_created=utcnow(), actor_name=actor.name, actor_role=actor.role,
                  token_id=actor.token_id)
    return values


def entry_as_written(entry_id: int, values: dict, currency_code: str | None = None,
                     issuer_id: int | None = None) -> Transaction:
    """The entry of ``values`` (as :func:`entry_values` made them) as it is (or will be) written."""
    entry = Transaction(id=entry_id, **values)
    if currency_code is not None:
        entry.gift_card = GiftCard(id=values["gift_card"], currency_code=currency_code, issuer=issuer_id)
    return entry


def written_entry(entry_id: int, values: dict, currency_code: str | None = None,
                  issuer_id: int | None = None) -> Transaction:
    """The entry just inserted (``values``, as :func:`entry_values` made them), its event written."""
    entry = entry_as_written(entry_id, values, currency_code, issuer_id)
    if values["kind"] in events.LEDGER_TYPES:
        events.emit(events.LEDGER_TYPES[values["kind"]], "transaction", entry)
    return entry


def record_issue(card_pk: int, balance: int, user_pk: int | None) -> Transaction:
    """The ``issue`` entry of a card issued on its own (bulk issues write theirs in bulk)."""
    return _entry(card_pk, "issue", balance, balance, user=user_pk)


# -- debits -----------------------------------------------------------------
_DEBIT = CompiledStatement(lambda slot: (
    GiftCard.update(balance=GiftCard.balance - slot("amount"),
                    status=peewee.Case(None, [(GiftCard.single_use == True, REDEEMED)],  # noqa: E712
                                       GiftCard.status),
                    date_modified=slot("now"))
    .where(GiftCard.id == slot("card"), GiftCard.balance >= slot("needed"), usable(slot("today")),
           GiftCard.issuer == slot("issuer"), GiftCard.currency_code == slot("currency"))
    .returning(GiftCard.balance)))


def _debit(card: GiftCard, product: Product, amount: int, today: datetime.date, held: int = 0) -> int | None:
    """The one conditional UPDATE of an order's charge: the new balance, or None if refused
    (``held``: what the card's active holds reserve, which the debit must leave). A
    redemption has its own, which sums the holds itself (:mod:`.redemptions`)."""
    rows = _DEBIT.execute(amount=amount, needed=amount + held, now=utcnow(), card=card.id, today=today,
                          issuer=product.issuer_id,
                          currency=product.issuer.currency_code).fetchall()
    return rows[0][0] if rows else None


# -- refund ----------------------------------------------------------------
def refundable(redemption: Transaction) -> int:
    """What is left to refund of a redemption (its amount less every refund of it)."""
    refunded = (Transaction.select(peewee.fn.COALESCE(peewee.fn.SUM(Transaction.amount), 0))
                .where(Transaction.refund_of == redemption.id).scalar())
    return -redemption.amount - int(refunded)


def refund(redemption_pk: int, amount: int | None = None, *, order_reference: str | None = None,
           idempotency_key: str | None = None, order: int | None = None) -> Transaction:
    """Return up to what remains of one redemption to its card (default: all of it).

    The redemption's row is locked first (``FOR UPDATE`` on PostgreSQL), so
    concurrent refunds of one redemption never return more than it took.
    """
    redemption = _locked_redemption(redemption_pk)
    remaining = refundable(redemption)
    if remaining <= 0:
        raise Conflict(f"Transaction {redemption_pk} has been refunded in full.", logref="fully_refunded")
    amount = remaining if amount is None else amount
    if amount > remaining:
        currency = GiftCard.select(GiftCard.currency_code).where(GiftCard.id == redemption.gift_card_id).scalar()
        raise Conflict(f"Only {format_cents(remaining, currency)} {currency} of transaction {redemption_pk} is "
                       f"left to refund, less than {format_cents(amount, currency)}.", "amount",
                       logref="refund_exceeds_redemption")
    balance_after, currency_code = _credit(redemption.gift_card_id, amount, reactivate=amount == remaining)
    return _entry(redemption.gift_card_id, "refund", amount, balance_after, currency_code,
                  refund_of=redemption.id,
                  product=redemption.product_id, user=redemption.user_id,
                  order_reference=order_reference or redemption.order_reference,
                  idempotency_key=idempotency_key, order=order or redemption.order_id)


def _locked_redemption(pk: int) -> Transaction:
    query = Transaction.select().where(Transaction.id == pk)
    if is_postgres():
        query = query.for_update()
    redemption = query.first() if 0 < pk <= MAX_ID else None
    if redemption is None:
        raise NotFound(f"There is no transaction with id {pk}.")
    if redemption.kind != "redeem":
        raise Conflict(f"Transaction {pk} is a {redemption.kind}, not a redemption; only "
                       "redemptions can be refunded.", logref="not_a_redemption")
    return redemption


def _credit(card_pk: int, amount: int, *, reactivate: bool) -> tuple[int, str]:
    """Add a refund to the card; a full refund re-opens a single-use card.

    balance_max limits reloads and issuing, never the return of money the card
    paid: only MAX_CENTS (the largest balance a card may hold) bounds a refund.
    """
    status = peewee.Case(None, [(GiftCard.status == REDEEMED, ACTIVE)], GiftCard.status) \
        if reactivate else GiftCard.status
    query = (GiftCard
             .update(balance=GiftCard.balance + amount, status=status, date_modified=utcnow())
             .where(GiftCard.id == card_pk, GiftCard.balance <= MAX_CENTS - amount)
             .returning(GiftCard.balance, GiftCard.currency_code).tuples())
    rows = list(query.execute())
    if not rows:
        raise _above_max(card_for_update(card_pk), amount, limited=False)
    return rows[0][0], rows[0][1]


def _room_for(amount: int) -> peewee.Expression:
    """SQL: adding ``amount`` keeps the balance within balance_max (and within MAX_CENTS)."""
    within_max = GiftCard.balance_max.is_null() | (GiftCard.balance + amount <= GiftCard.balance_max)
    return within_max & (GiftCard.balance <= MAX_CENTS - amount)


def _above_max(card: GiftCard, amount: int, limited: bool = True) -> Conflict:
    limit = (f"its balance_max of {_in(card, card.balance_max)}"
             if limited and card.balance_max is not None
             else f"the largest balance a card may hold ({_in(card, MAX_CENTS)})")
    return Conflict(
        f"Adding {_in(card, amount)} to gift card {shown_code(card.card_id)!r} (balance "
        f"{_in(card, card.balance)}) would exceed {limit}.", "amount", logref="above_balance_max",
    )


# -- reload ----------------------------------------------------------------
def reload(card_pk: int, amount: int, *, order_reference: str | None = None,
           idempotency_key: str | None = None, today: datetime.date | None = None) -> Transaction:
    """Add ``amount`` to a rechargeable, active card, never above its balance_max."""
    today = today or today_utc()
    card = card_for_update(card_pk)
    _check_reloadable(card, amount, today)
    query = (GiftCard
             .update(balance=GiftCard.balance + amount, date_modified=utcnow())
             .where(GiftCard.id == card.id, GiftCard.rechargeable == True,  # noqa: E712
                    usable(today), _room_for(amount))
             .returning(GiftCard.balance).tuples())
    rows = list(query.execute())
    if not rows:  # the card changed since it was read: say how
        _check_reloadable(card_for_update(card_pk), amount, today)
        raise Conflict("The gift card changed while it was being reloaded; try again.",
                       logref="concurrent_change")
    return _entry(card.id, "reload", amount, rows[0][0], card.currency_code, card.issuer_id, user=card.user_id,
                  order_reference=order_reference, idempotency_key=idempotency_key)


def _check_reloadable(card: GiftCard, amount: int, today: datetime.date) -> None:
    if not card.rechargeable:
        raise Conflict(f"Gift card {shown_code(card.card_id)!r} is not rechargeable.",
                       logref="not_rechargeable")
    status = status_of(card, today)
    if status != ACTIVE:
        raise _refused(card, status)
    limit = MAX_CENTS if card.balance_max is None else card.balance_max
    if card.balance + amount > limit:
        raise _above_max(card, amount)


# -- adjust ----------------------------------------------------------------
def spendable_floor(card_pk: int) -> int:
    """The lowest balance a debit that is not a redemption may leave on a card: what its
    active holds reserve (zero without holds), so ``0 <= available_balance`` stays true.
    The caller holds the card's row lock: a new hold waits for it before summing holds."""
    return held_on(card_pk)


def adjust(card_pk: int, amount: int, reason: str, *, idempotency_key: str | None = None) -> Transaction:
    """An admin's correction: add (or, negative, take away) ``amount`` with its ``reason``.

    Whatever the card's status; never below :func:`spendable_floor` (409
    ``below_zero``: below zero, or below what the card's holds reserve) nor above
    MAX_CENTS. One conditional UPDATE, one entry.
    """
    card = card_for_update(card_pk, lock=True)
    floor = spendable_floor(card.id) if amount < 0 else 0
    query = (GiftCard
             .update(balance=GiftCard.balance + amount, date_modified=utcnow())
             .where(GiftCard.id == card.id, GiftCard.balance + amount >= floor,
                    GiftCard.balance <= MAX_CENTS - amount)
             .returning(GiftCard.balance).tuples())
    rows = list(query.execute())
    if not rows:
        card = card_for_update(card_pk)
        if amount > 0:
            raise _above_max(card, amount, limited=False)
        held = f", of which {_in(card, floor)} is held" if floor else ""
        below = "what its holds reserve" if floor else "zero"
        raise Conflict(f"Taking {_in(card, -amount)} from gift card {shown_code(card.card_id)!r} "
                       f"(balance {_in(card, card.balance)}{held}) would take its balance below {below}.",
                       "amount", logref="below_zero")
    return _entry(card.id, "adjust", amount, rows[0][0], user=card.user_id, reason=reason,
                  idempotency_key=idempotency_key)


def _in(card: GiftCard, amount: int) -> str:
    """An amount in the card's currency, as text (JPY "1000", BHD "1.250")."""
    return format_cents(amount, card.currency_code)
