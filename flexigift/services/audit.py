"""Auditing the ledger: every card whose balance its transactions do not explain.

For each card: exactly one ``issue`` entry, the first, of the initial balance;
``balance == initial_balance + sum(amounts of the entries after it)``; and
``balance >= 0``. One grouped query over all cards, returning only the
cards at fault.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import JOIN, Case, fn

from ..models import GiftCard, Transaction
from ..money import format_cents


@dataclass(frozen=True)
class Discrepancy:
    """A card the ledger invariant does not hold for."""

    id: int
    card_id: str
    balance: int
    initial_balance: int
    moved: int
    issue_entries: int
    issued: int
    issue_is_first: bool

    def problems(self) -> list[str]:
        found = []
        if self.issue_entries != 1:
            found.append(f"{self.issue_entries} issue entries (expected 1)")
        elif not self.issue_is_first:
            found.append("its issue entry is not its first entry")
        elif self.issued != self.initial_balance:
            found.append(f"issued {format_cents(self.issued)} but initial_balance is "
                         f"{format_cents(self.initial_balance)}")
        expected = self.initial_balance + self.moved
        if self.balance != expected:
            found.append(f"balance {format_cents(self.balance)} != initial_balance "
                         f"{format_cents(self.initial_balance)} + entries {format_cents(self.moved)} "
                         f"= {format_cents(expected)}")
        if self.balance < 0:
            found.append(f"negative balance {format_cents(self.balance)}")
        return found

    def describe(self) -> str:
        return f"gift card {self.id} ({self.card_id}): " + "; ".join(self.problems())


def _when_issue(value, otherwise=0):
    return Case(None, [(Transaction.kind == "issue", value)], otherwise)


def ledger_discrepancies() -> list[Discrepancy]:
    """Every card that breaks the ledger invariant (one query)."""
    moved = fn.COALESCE(fn.SUM(Case(None, [(Transaction.kind != "issue", Transaction.amount)], 0)), 0)
    issue_entries = fn.COALESCE(fn.SUM(_when_issue(1)), 0)
    issued = fn.COALESCE(fn.SUM(_when_issue(Transaction.amount)), 0)
    issue_id = fn.MIN(_when_issue(Transaction.id, None))
    first_id = fn.MIN(Transaction.id)
    query = (GiftCard
             .select(GiftCard.id, GiftCard.card_id, GiftCard.balance, GiftCard.initial_balance,
                     moved, issue_entries, issued, issue_id == first_id)
             .join(Transaction, JOIN.LEFT_OUTER, on=(Transaction.gift_card == GiftCard.id))
             .group_by(GiftCard.id)
             .having((GiftCard.balance != GiftCard.initial_balance + moved) | (GiftCard.balance < 0)
                     | (issue_entries != 1) | (issued != GiftCard.initial_balance)
                     | (issue_id != first_id))
             .order_by(GiftCard.id).tuples())
    return [Discrepancy(*row[:7], bool(row[7])) for row in query]


def hold_discrepancies() -> list[str]:
    """Every card whose holds reserve more than its balance (``0 <= available_balance <=
    balance`` broken), and every hold that captured more than it held or holds a
    non-positive amount (two queries)."""
    from ..models import Hold
    from .payments import reserving

    held = fn.COALESCE(fn.SUM(Hold.amount), 0)
    cards = (GiftCard.select(GiftCard.id, GiftCard.card_id, GiftCard.balance, held)
             .join(Hold, on=((Hold.gift_card == GiftCard.id) & reserving()))
             .group_by(GiftCard.id, GiftCard.card_id, GiftCard.balance)
             .having(held > GiftCard.balance).order_by(GiftCard.id).tuples())
    found = [f"gift card {pk} ({card_id}): holds reserve {format_cents(int(total))}, more than its "
             f"balance {format_cents(balance)} (available_balance below 0)" for pk, card_id, balance, total in cards]
    holds = (Hold.select(Hold.id, Hold.amount, Hold.captured)
             .where((Hold.captured > Hold.amount) | (Hold.captured < 0) | (Hold.amount <= 0))
             .order_by(Hold.id).tuples())
    found += [f"hold {pk}: captured {format_cents(captured)} of {format_cents(amount)} held"
              for pk, amount, captured in holds]
    return found
