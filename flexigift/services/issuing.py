"""Issuing cards in bulk: from a list of card_ids, or with generated codes.

All or nothing, in one database transaction, with bulk inserts: the cards by
chunked multi-row INSERTs that skip codes already taken (``ON CONFLICT DO
NOTHING``) and return the new rows' ids (``RETURNING``), then every card's
``issue`` entry the same way. No statement runs per card.

Generated codes come from :mod:`secrets` and use an alphabet without the
characters people confuse (no 0/O, no 1/I/l): 32 symbols, so each random byte
maps to one symbol without bias.
"""
from __future__ import annotations

import datetime
import math
import secrets
from dataclasses import dataclass, field
from typing import Sequence

from .. import events
from ..db import database
from ..errors import Conflict, ValidationFailed
from ..models import GiftCard, Issuer, Transaction, utcnow
from .actors import current_actor
from .bulk import CHUNK_PARAMETERS, db_row, insert_rows
from .cards import ACTIVE, today_utc
from .issuers import DEFAULT_CURRENCY, expiry_from

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_BYTE_TO_SYMBOL = bytes(ALPHABET.encode() * (256 // len(ALPHABET)))
MAX_CODE_LENGTH = 50
MAX_CODES = 100_000
#: A length must allow this many times the codes asked for, so random draws rarely collide.
HEADROOM = 10
#: Rounds of drawing replacements for codes that are already taken, at the most…
MAX_ROUNDS = 48
#: …and in a row without finding a single free code, before giving up.
FRUITLESS_ROUNDS = 3
#: Replacements are drawn this many times over, and never fewer than :data:`REDRAW_MIN`;
#: one query drops those already taken. A round finds nothing only when every one of
#: them is taken, not when the one code still missing happens to collide.
REDRAW_FACTOR = 4
REDRAW_MIN = 32

_CARD_FIELDS = (GiftCard.card_id, GiftCard.issuer, GiftCard.balance, GiftCard.initial_balance,
                GiftCard.currency_code, GiftCard.expiry_date, GiftCard.status, GiftCard.single_use,
                GiftCard.rechargeable, GiftCard.balance_max, GiftCard.date_created,
                GiftCard.date_modified)
_ENTRY_FIELDS = (Transaction.gift_card, Transaction.kind, Transaction.amount,
                 Transaction.balance_after, Transaction.idempotency_key, Transaction.date_created,
                 Transaction.actor_name, Transaction.actor_role, Transaction.token_id)

KEEP = object()  # an omitted expiry_date: the issuer's expires_after decides


@dataclass(frozen=True)
class CardTerms:
    """What every card of one bulk issue shares."""

    balance: int = 0
    single_use: bool = False
    rechargeable: bool = True
    balance_max: int | None = None
    expiry_date: object = field(default=KEEP)  # a date, None (never expires) or KEEP

    def expiry_for(self, issuer: Issuer, today: datetime.date) -> datetime.date | None:
        if self.expiry_date is KEEP:
            return expiry_from(issuer.expires_after, today)
        return self.expiry_date


def issue_cards(issuer: Issuer, card_ids: Sequence[str], terms: CardTerms,
                idempotency_key: str | None = None) -> int:
    """Issue one card per card_id; 409 naming the card_ids already taken (nothing issued)."""
    with database.atomic():
        issued = _insert_cards(issuer, card_ids, terms)
        if len(issued) != len(card_ids):
            new = {card_id for _, card_id in issued}
            taken = [card_id for card_id in card_ids if card_id not in new]
            raise Conflict(_taken_message(taken), "card_ids", logref="duplicate")
        _insert_issue_entries(issued, terms.balance, idempotency_key)
    return len(issued)


def _taken_message(taken: list[str]) -> str:
    shown = ", ".join(repr(card_id) for card_id in taken[:10])
    more = f" and {len(taken) - 10} more" if len(taken) > 10 else ""
    return (f"{len(taken)} card_id(s) already belong to other gift cards: {shown}{more}. "
            "Nothing was issued.")


def generate_cards(issuer: Issuer, *, length: int, count: int, prefix: str, terms: CardTerms,
                   idempotency_key: str | None = None) -> list[str]:
    """Issue ``count`` cards with new random codes of ``length`` characters (``prefix`` included)."""
    check_code_space(length, count, prefix)
    issued: list[tuple[int, str]] = []
    fruitless = 0
    random_length = length - len(prefix)
    with database.atomic():
        drawn = draw_codes(count, random_length, prefix)
        for _ in range(MAX_ROUNDS):
            inserted = _insert_cards(issuer, drawn, terms)
            issued.extend(inserted)
            fruitless = 0 if inserted else fruitless + 1
            if len(issued) == count or fruitless == FRUITLESS_ROUNDS:
                break
            drawn = _redraw(count - len(issued), random_length, prefix, {code for _, code in issued})
        if len(issued) < count:
            raise Conflict(f"Could not find {count} unused codes of length {length} with prefix "
                           f"{prefix!r}: most of them are taken. Use a longer length.",
                           "length", logref="code_space_exhausted")
        _insert_issue_entries(issued, terms.balance, idempotency_key)
    return [code for _, code in issued]


def code_space(random_length: int) -> int:
    return len(ALPHABET) ** random_length


def code_space_problem(length: int, count: int, prefix: str) -> str | None:
    """Why ``length`` cannot hold ``count`` codes after ``prefix`` (with :data:`HEADROOM`), or None."""
    random_length = length - len(prefix)
    if random_length < 1:
        return (f"Must be longer than the prefix ({len(prefix)} characters): the length includes "
                "the prefix.")
    if code_space(random_length) < HEADROOM * count:
        needed = len(prefix) + math.ceil(math.log(HEADROOM * count, len(ALPHABET)))
        return (f"Too short: {random_length} random character(s) make only "
                f"{code_space(random_length):,} distinct codes; {count:,} codes need a length of "
                f"at least {needed}.")
    return None


def check_code_space(length: int, count: int, prefix: str) -> None:
    """422 naming ``length`` unless it leaves room for ``count`` codes."""
    problem = code_space_problem(length, count, prefix)
    if problem:
        raise ValidationFailed.single("length", problem)


def draw_codes(count: int, random_length: int, prefix: str = "", exclude: set[str] = frozenset()) -> list[str]:
    """``count`` distinct codes: ``prefix`` and ``random_length`` symbols from :data:`ALPHABET`."""
    codes: dict[str, None] = {}
    for _ in range(32):
        missing = count - len(codes)
        if missing <= 0:
            break
        symbols = secrets.token_bytes(missing * random_length).translate(_BYTE_TO_SYMBOL).decode()
        for start in range(0, len(symbols), random_length):
            code = prefix + symbols[start:start + random_length]
            if code not in exclude:
                codes[code] = None
    return list(codes)[:count]


def _redraw(missing: int, random_length: int, prefix: str, issued: set[str]) -> list[str]:
    """Up to ``missing`` new codes, none issued yet as far as the database knows."""
    candidates = draw_codes(max(REDRAW_FACTOR * missing, REDRAW_MIN), random_length, prefix, issued)
    taken = set()
    for start in range(0, len(candidates), CHUNK_PARAMETERS):
        chunk = candidates[start:start + CHUNK_PARAMETERS]
        taken.update(code for code, in GiftCard.select(GiftCard.card_id)
                     .where(GiftCard.card_id.in_(chunk)).tuples())
    return [code for code in candidates if code not in taken][:missing]


def _insert_cards(issuer: Issuer, card_ids: Sequence[str], terms: CardTerms) -> list[tuple[int, str]]:
    """Insert the cards whose card_id is free; (id, card_id) of each one inserted."""
    now = utcnow()
    shared = db_row(_CARD_FIELDS[1:], (
        issuer.id, terms.balance, terms.balance, issuer.currency_code or DEFAULT_CURRENCY,
        terms.expiry_for(issuer, today_utc()), ACTIVE, terms.single_use, terms.rechargeable,
        terms.balance_max, now, now,
    ))
    rows = [(card_id, *shared) for card_id in card_ids]
    return insert_rows(GiftCard, _CARD_FIELDS, rows, returning=(GiftCard.id, GiftCard.card_id),
                       ignore_conflicts=True)


def _insert_issue_entries(cards: Sequence[tuple[int, str]], balance: int, idempotency_key: str | None) -> None:
    actor = current_actor()
    shared = db_row(_ENTRY_FIELDS[1:], ("issue", balance, balance, idempotency_key, utcnow(),
                                        actor.name, actor.role, actor.token_id))
    insert_rows(Transaction, _ENTRY_FIELDS, [(card_pk, *shared) for card_pk, _ in cards])
    events.emit_many("card.issued", "gift_card", [card_pk for card_pk, _ in cards])


def issued_with_key(idempotency_key: str, since: datetime.datetime | None = None) -> list[str]:
    """The card_ids an issue sent with ``idempotency_key`` created, in the order it issued them;
    ``since`` the key was claimed (an issue with the key before it expired is another request)."""
    condition = (Transaction.kind == "issue") & (Transaction.idempotency_key == idempotency_key)
    if since is not None:
        condition &= Transaction.date_created >= since
    query = (GiftCard.select(GiftCard.card_id).join(Transaction, on=(Transaction.gift_card == GiftCard.id))
             .where(condition).order_by(GiftCard.id))
    return [card_id for card_id, in query.tuples()]


# -- one card ----------------------------------------------------------------
def issue_card(issuer: Issuer, card_id: str, terms: CardTerms, *, user_pk: int | None = None,
               currency_code: str | None = None, status: str = ACTIVE,
               recipient_email: str | None = None, reference: str | None = None,
               metadata: str | None = None) -> GiftCard:
    """Issue one card with its ``issue`` entry: the same defaults as a bulk issue
    (the issuer's currency and expiry policy, active, not single use, rechargeable)."""
    from .ledger import record_issue  # ledger imports nothing of issuing; keep it one-way

    currency = currency_code or issuer.currency_code or DEFAULT_CURRENCY
    if terms.balance_max is not None and terms.balance > terms.balance_max:
        raise ValidationFailed.single("balance_max", f"Must be at least the balance ({terms.balance}).")
    now = utcnow()
    card = GiftCard.create(
        card_id=card_id, user=user_pk, issuer=issuer, balance=terms.balance,
        initial_balance=terms.balance, currency_code=currency,
        expiry_date=terms.expiry_for(issuer, today_utc()), status=status,
        single_use=terms.single_use, rechargeable=terms.rechargeable, balance_max=terms.balance_max,
        recipient_email=recipient_email, reference=reference, metadata=metadata,
        date_created=now, date_modified=now,
    )
    record_issue(card.id, card.balance, user_pk)
    return card
