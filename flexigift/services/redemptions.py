"""A redemption: a card pays for a product, in as few round trips as the database allows.

The card is read and locked first (by the caller, in the action's transaction,
or here). Then one conditional ``UPDATE`` debits it: its condition re-checks in
the database everything the debit needs, the available balance included (the
balance less what the card's active holds reserve, summed inside the UPDATE,
after the row lock was taken, so no hold committed meanwhile is missed and
none can be placed until this commits). On PostgreSQL the ledger entry is
written by the same statement (a data-modifying CTE: no entry without its
debit, none when the debit matched no row), and so is the entry's event, with
the subscriptions it is owed to read beside it (:mod:`..events.outbox`): the
read of the card (:func:`card_to_redeem`) takes the entry's id from its
sequence, and the row lock it takes fixes the balance the entry will show, so
the entry and its event are represented before the statement writes them (the
balance the debit returns is checked against it). On SQLite the entry and the
event are the next statements.

When the debit matches no row the card is read again, with its holds, to say
why (409): the refusal costs statements, a payment does not.
"""
from __future__ import annotations

import datetime

import peewee

from .. import events
from ..db import is_postgres
from ..errors import Conflict
from ..events.outbox import PendingEvent, insert_event_after, with_subscriptions
from ..models import GiftCard, Hold, Issuer, Product, Transaction, User
from ..query.compiled import CompiledSelect, CompiledStatement
from ..query.rows import RowPlan
from .actors import shown_code
from .cards import REDEEMED, today_utc, usable
from .ledger import (_ENTRY_DETAILS, _INSERT_ENTRY, MAX_ID, _in, _refused, card_for_update, card_or_none,
                     entry_as_written, entry_values, written_entry)
from .payments import held_on, refusals


def redeem(card_pk: int, product: Product, amount: int | None = None, *,
           order_reference: str | None = None, allow_partial: bool = False,
           idempotency_key: str | None = None, today: datetime.date | None = None,
           payer: User | None = None, order: int | None = None,
           card: GiftCard | None = None) -> Transaction:
    """Debit ``amount`` (default: the product's price) from a card for ``product``.

    ``card``: the card as :func:`.ledger.card_for_update` read it, locked, in this
    transaction (so it is not read twice); by default it is read here.

    With ``allow_partial``, debit ``min(available balance, amount)`` when it is
    positive. A single-use card becomes ``redeemed``. 409 naming the reason
    when the card cannot pay, or cannot pay that much, or (with ``payer``) is
    not linked to the user paying. Only the available balance can pay (the balance
    less the card's active holds): the card's row lock, taken first, keeps new holds
    out until this commits.
    """
    today = today or today_utc()
    wanted = product.price if amount is None else amount
    if card is None or card.id != card_pk:
        card = card_for_update(card_pk, lock=True)
    if payer is not None and card.user_id != payer.id:
        raise Conflict(f"Gift card {shown_code(card.card_id)!r} is not linked to user {payer.user_id!r}.",
                       "user_id", logref="not_the_users_card")
    # A partial debit takes what is available, so it reads the holds first; a whole one
    # leaves them to the UPDATE's condition, and reads them only to explain a refusal.
    held = held_on(card.id) if allow_partial else 0
    debit = min(card.balance - held, wanted) if allow_partial else wanted
    if refusals(card, product, today, held) or card.balance - held < debit:
        raise _why_not(card, product, debit, today)
    _hold_user(card.user_id)
    values = entry_values(card.id, "redeem", -debit, None, product=product.id, user=card.user_id,
                          order_reference=order_reference, idempotency_key=idempotency_key, order=order)
    if getattr(card, "next_entry_id", None) is not None:
        entry = _debit_with_entry_and_event(card, product, debit, today, values)
        if entry is None:
            raise _why_not(card_for_update(card_pk), product, debit, today)
        return entry
    entry_id = _debit_with_entry(card, product, debit, today, values)
    if entry_id is None:
        raise _why_not(card_for_update(card_pk), product, debit, today)
    return written_entry(entry_id, values, card.currency_code, card.issuer_id)


#: PostgreSQL: the card to redeem, locked, with its issuer and the id its ledger entry will have.
_NEXT_ENTRY_ID = f"nextval('{Transaction._meta.table_name}_id_seq')"
_CARD_TO_REDEEM = CompiledSelect(lambda hole: GiftCard.select(
    GiftCard, Issuer, peewee.SQL(_NEXT_ENTRY_ID).alias("next_entry_id"))
    .join(Issuer).where(GiftCard.id == hole).for_update(of=GiftCard))


def _card_and_product(slot) -> peewee.Query:
    """PostgreSQL: :data:`_CARD_TO_REDEEM` and, in the same statement, the product named
    ``slot("product_id")`` with its issuer (NULLs where there is no such product)."""
    product_issuer = Issuer.alias()
    return (GiftCard.select(GiftCard, Issuer, peewee.SQL(_NEXT_ENTRY_ID).alias("next_entry_id"),
                            Product, product_issuer)
            .join(Issuer, on=(GiftCard.issuer == Issuer.id))
            .switch(GiftCard).join(Product, peewee.JOIN.LEFT_OUTER, on=(Product.product_id == slot("product_id")))
            .join(product_issuer, peewee.JOIN.LEFT_OUTER, on=(Product.issuer == product_issuer.id))
            .where(GiftCard.id == slot("card")).for_update(of=GiftCard))


_CARD_AND_PRODUCT = CompiledStatement(_card_and_product)
#: How each part of a row of :data:`_CARD_AND_PRODUCT` becomes a model instance.
_PLANS = [RowPlan.for_model(model) for model in (GiftCard, Issuer, Product, Issuer)]


def card_to_redeem(pk: int, product_id: str | None = None) -> tuple[GiftCard | None, Product | None]:
    """The card a redemption debits, read and locked first in its transaction (None: no such
    card). On PostgreSQL it comes with ``next_entry_id``, the id of the entry that
    :func:`redeem` then writes in the statement that debits the card; and, when the body
    names a product by ``product_id``, the same statement reads it, with its issuer (None:
    not read, or no such product: the caller reads it the usual way)."""
    if not is_postgres():
        return card_or_none(pk, lock=True), None
    if not 0 < pk <= MAX_ID:
        return None, None
    if product_id is None:
        return _CARD_TO_REDEEM.first(pk), None
    rows = _CARD_AND_PRODUCT.execute(card=pk, product_id=product_id).fetchall()
    if not rows:
        return None, None
    row, parts = rows[0], []
    start = 0
    for plan in _PLANS:
        parts.append(row[start:start + len(plan.columns)])
        start += len(plan.columns) + (1 if plan is _PLANS[1] else 0)  # the entry's id follows the issuer
    card, issuer, product, product_issuer = (plan.build([part])[0] for plan, part in zip(_PLANS, parts))
    card.__rel__["issuer"] = issuer
    card.next_entry_id = row[len(_PLANS[0].columns) + len(_PLANS[1].columns)]
    if product.id is None:
        return card, None
    product.__rel__["issuer"] = product_issuer
    return card, product


def _hold_user(user_pk: int | None) -> None:
    """Lock the user the ledger entry will name before the card's row (PostgreSQL): every
    writer takes its locks in one order, user before card before ledger, as a PATCH of a
    user linking cards does; the entry's foreign key would otherwise take the user's lock
    after the card's, and deadlock with it."""
    if user_pk is not None and is_postgres():
        User.select(User.id).where(User.id == user_pk).for_update("FOR KEY SHARE").execute()


def _held(slot) -> peewee.Node:
    """SQL: what the active holds of the card being debited reserve at ``slot("now")``."""
    return (Hold.select(peewee.fn.COALESCE(peewee.fn.SUM(Hold.amount), 0))
            .where((Hold.gift_card == slot("card")) & (Hold.status == "active") & (Hold.deadline > slot("now"))))


def _debit_query(slot) -> peewee.Query:
    """The conditional UPDATE of a redemption: the card can pay ``debit`` out of what its
    holds leave available, and is still active, unexpired, the product's issuer's and currency."""
    return (GiftCard.update(balance=GiftCard.balance - slot("debit"),
                            status=peewee.Case(None, [(GiftCard.single_use == True, REDEEMED)],  # noqa: E712
                                               GiftCard.status),
                            date_modified=slot("now"))
            .where(GiftCard.id == slot("card"), GiftCard.balance - _held(slot) >= slot("debit"),
                   usable(slot("today")), GiftCard.issuer == slot("issuer"),
                   GiftCard.currency_code == slot("currency"))
            .returning(GiftCard.balance))


_DEBIT = CompiledStatement(_debit_query)

#: PostgreSQL's name of each peewee column type (a value for a serial column is an integer).
_POSTGRES_TYPES = {**peewee.FIELD, **peewee.PostgresqlDatabase.field_types, "AUTO": "INTEGER", "BIGAUTO": "BIGINT"}

#: The entry's columns but its balance_after, which comes from the debit.
_COLUMNS = [Transaction._meta.fields[name] for name in
            ("gift_card", "kind", "amount", *_ENTRY_DETAILS, "date_created", "actor_name", "actor_role",
             "token_id")]


def _debit_and_entry(slot) -> peewee.Query:
    """PostgreSQL: the debit and the entry it makes, one statement (the entry's id comes back).
    Values in a SELECT list have no column to take their type from: each is cast to its column's."""
    debited = _debit_query(slot).cte("debited", columns=("balance",))
    values = [peewee.Cast(slot(field.name), _POSTGRES_TYPES[field.field_type]) for field in _COLUMNS]
    source = peewee.Select(from_list=[debited], columns=[*values, debited.c.balance])
    return (Transaction.insert_from(source, [*_COLUMNS, Transaction.balance_after])
            .with_cte(debited).returning(Transaction.id, Transaction.balance_after))


_DEBIT_AND_ENTRY = CompiledStatement(_debit_and_entry)


def _cast(field: peewee.Field, node: peewee.Node) -> peewee.Node:
    return peewee.Cast(node, _POSTGRES_TYPES[field.field_type])


def _debit_entry_and_event(slot) -> peewee.Query:
    """PostgreSQL: the debit, the entry it makes (its id given) and the entry's event, one
    statement; each subscription comes back beside the event's id and the entry's balance_after."""
    debited = _debit_query(slot).cte("debited", columns=("balance",))
    columns = [Transaction.id, *_COLUMNS]
    source = peewee.Select(from_list=[debited],
                           columns=[*(_cast(field, slot(field.name)) for field in columns), debited.c.balance])
    entry = (Transaction.insert_from(source, [*columns, Transaction.balance_after])
             .returning(Transaction.id, Transaction.balance_after).cte("entry", columns=("id", "balance_after")))
    new_event = insert_event_after(entry, slot, _cast)
    return (with_subscriptions(new_event, entry.c.balance_after).join(entry, peewee.JOIN.CROSS)
            .with_cte(debited, entry, new_event))


_DEBIT_ENTRY_AND_EVENT = CompiledStatement(_debit_entry_and_event)


def _debit_with_entry_and_event(card: GiftCard, product: Product, amount: int, today: datetime.date,
                                values: dict) -> Transaction | None:
    """PostgreSQL: debit ``amount``, write the entry (``values``; its id the one the card's
    read took) and its event in one statement; the entry, or None when the debit matched no
    row (and nothing was written). The card's row lock, taken when it was read, fixes the
    balance after the debit: the entry and its event are represented before they are written."""
    values["balance_after"] = card.balance - amount
    entry = entry_as_written(card.next_entry_id, values, card.currency_code, card.issuer_id)
    event = PendingEvent(events.LEDGER_TYPES["redeem"], "transaction", entry)
    rows = _DEBIT_ENTRY_AND_EVENT.execute(debit=amount, now=values["date_created"], card=card.id, today=today,
                                          issuer=product.issuer_id, currency=product.issuer.currency_code,
                                          id=card.next_entry_id, **values, **event.values).fetchall()
    if not rows:
        return None
    event_id, balance_after = rows[0][:2]
    if balance_after != values["balance_after"]:  # the row lock makes this impossible: never write a wrong event
        raise RuntimeError(f"card {card.id}: the debit left {balance_after}, not {values['balance_after']}")
    event.written(event_id, [tuple(row[2:]) for row in rows if row[2] is not None])
    return entry


def _debit_with_entry(card: GiftCard, product: Product, amount: int, today: datetime.date,
                      values: dict) -> int | None:
    """Debit ``amount`` and write the entry (``values``, its balance_after filled in here);
    the entry's id, or None when the debit matched no row (and nothing was written)."""
    now = values["date_created"]
    debit = dict(debit=amount, now=now, card=card.id, today=today, issuer=product.issuer_id,
                 currency=product.issuer.currency_code)
    if is_postgres():
        rows = _DEBIT_AND_ENTRY.execute(**debit, **values).fetchall()
        if not rows:
            return None
        [(entry_id, values["balance_after"])] = rows
        return entry_id
    rows = _DEBIT.execute(**debit).fetchall()
    if not rows:
        return None
    values["balance_after"] = rows[0][0]
    [(entry_id,)] = _INSERT_ENTRY.execute(**values).fetchall()
    return entry_id


def _insufficient(card: GiftCard, amount: int, held: int = 0) -> Conflict:
    holds = f" ({_in(card, held)} of its {_in(card, card.balance)} is held)" if held else ""
    return Conflict(
        f"Gift card {shown_code(card.card_id)!r} holds {_in(card, card.balance - held)} {card.currency_code}"
        f"{holds}, less than {_in(card, amount)}; nothing was debited (send allow_partial to debit "
        "what it holds).", "amount", logref="insufficient_balance",
    )


def _why_not(card: GiftCard, product: Product, amount: int, today: datetime.date) -> Conflict:
    """Why ``card`` (as read, locked, in this transaction) cannot pay ``amount``."""
    held = held_on(card.id)
    reasons = refusals(card, product, today, held)
    if reasons:
        return _refused(card, reasons[0], product)
    return _insufficient(card, amount, held)
