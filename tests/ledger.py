"""The ledger invariant, checked over the whole database after every money test.

:func:`ledger_problems` recomputes every card's history in Python, entry by
entry, independently of the service's own audit (``flexigift check-ledger``),
which :func:`assert_ledger_holds` runs too. Money test modules import the
autouse fixture :func:`ledger_holds_after_each_test`.
"""
from __future__ import annotations

from collections import defaultdict

import pytest

from flexigift.models import GiftCard, Transaction
from flexigift.services.audit import hold_discrepancies, ledger_discrepancies

SIGNS = {"redeem": -1, "refund": 1, "reload": 1}


def _card_problems(card: GiftCard, entries: list[Transaction], redeemed: dict[int, int],
                   refunded: dict[int, int]) -> list[str]:
    problems = []
    if not entries or entries[0].kind != "issue":
        return [f"card {card.card_id}: first entry is not its issue entry"]
    issue = entries[0]
    if not issue.amount == issue.balance_after == card.initial_balance:
        problems.append(f"card {card.card_id}: issue entry {issue.amount} != initial {card.initial_balance}")
    balance = issue.balance_after
    for entry in entries[1:]:
        if entry.kind == "issue":
            problems.append(f"card {card.card_id}: a second issue entry {entry.id}")
        sign = SIGNS.get(entry.kind)
        if sign is not None and entry.amount * sign <= 0:
            problems.append(f"entry {entry.id}: a {entry.kind} of {entry.amount}")
        balance += entry.amount
        if entry.balance_after != balance or balance < 0:
            problems.append(f"entry {entry.id}: balance_after {entry.balance_after}, expected {balance}")
    if card.balance != card.initial_balance + sum(entry.amount for entry in entries[1:]):
        problems.append(f"card {card.card_id}: balance {card.balance} is not what its entries add up to")
    if card.balance < 0:  # balance_max limits reloads, not refunds: a card may stand above it
        problems.append(f"card {card.card_id}: balance {card.balance} below zero")
    for redemption, total in refunded.items():
        if total > redeemed.get(redemption, 0):
            problems.append(f"redemption {redemption}: refunded {total} of {redeemed.get(redemption)}")
    return problems


def ledger_problems() -> list[str]:
    """Everything wrong with the ledger of every card (empty when the invariant holds)."""
    entries: dict[int, list[Transaction]] = defaultdict(list)
    redeemed: dict[int, dict[int, int]] = defaultdict(dict)
    refunded: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for entry in Transaction.select().order_by(Transaction.id):
        entries[entry.gift_card_id].append(entry)
        if entry.kind == "redeem":
            redeemed[entry.gift_card_id][entry.id] = -entry.amount
        if entry.refund_of_id is not None:
            refunded[entry.gift_card_id][entry.refund_of_id] += entry.amount
    problems = []
    for card in GiftCard.select().order_by(GiftCard.id):
        problems += _card_problems(card, entries.pop(card.id, []), redeemed[card.id], refunded[card.id])
    problems += [f"entries of a missing card {card_pk}" for card_pk in entries]
    return problems


def assert_ledger_holds(app) -> None:
    """The invariant holds for every card, by our count and by the service's audit."""
    with app.extensions["flexigift_db"].connection_context():
        problems = ledger_problems()
        audit = [discrepancy.describe() for discrepancy in ledger_discrepancies()] + hold_discrepancies()
    assert not problems, "\n".join(problems[:20])
    assert not audit, "\n".join(audit[:20])


@pytest.fixture(autouse=True)
def ledger_holds_after_each_test(request):
    """After each test that used an app: the ledger invariant holds over its whole database."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")  # set up first, so it is torn down after this check
    yield
    assert_ledger_holds(app)
