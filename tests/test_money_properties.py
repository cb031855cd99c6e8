"""Property: any sequence of redeem, refund, reload and adjust on a freshly
issued card does what a simple model of the rules predicts, keeps the ledger
invariant, never takes a balance below zero, and never reloads above
balance_max (a refund always goes through), in a currency of each number of
decimals (JPY 0, USD 2, BHD 3: the model counts minor units), on both databases."""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexigift.currencies import decimals_of
from flexigift.money import MAX_CENTS, format_minor
from ledger import assert_ledger_holds, ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of

CARD_NUMBERS = itertools.count(1)
cents = st.integers(min_value=1, max_value=12_000)
OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("redeem"), cents, st.booleans()),
    st.tuples(st.just("refund"), st.none() | cents, st.integers(0, 20)),
    st.tuples(st.just("reload"), cents, st.just(None)),
    st.tuples(st.just("adjust"), st.integers(-12_000, 12_000).filter(bool), st.just(None)),
), max_size=14)


@dataclass
class Model:
    """What the rules say a card holds and which requests succeed."""

    balance: int
    balance_max: int | None
    rechargeable: bool
    single_use: bool
    redeemed: bool = False
    redemptions: list[list[int]] = field(default_factory=list)  # [entry id, amount, refunded]

    def redeem(self, amount: int, partial: bool) -> tuple[str | None, int]:
        if self.redeemed:
            return "card_redeemed", 0
        debit = min(self.balance, amount) if partial else amount
        if self.balance == 0 or debit > self.balance:
            return "insufficient_balance", 0
        self.balance -= debit
        self.redeemed = self.single_use
        return None, debit

    def refund(self, redemption: list[int], amount: int | None) -> str | None:
        remaining = redemption[1] - redemption[2]
        amount = remaining if amount is None else amount
        if remaining == 0:
            return "fully_refunded"
        if amount > remaining:
            return "refund_exceeds_redemption"
        self.balance += amount  # balance_max never limits a refund
        redemption[2] += amount
        self.redeemed = self.redeemed and amount < remaining
        return None

    def reload(self, amount: int) -> str | None:
        if not self.rechargeable:
            return "not_rechargeable"
        if self.redeemed:
            return "card_redeemed"
        if self.balance + amount > (MAX_CENTS if self.balance_max is None else self.balance_max):
            return "above_balance_max"
        self.balance += amount
        return None

    def adjust(self, amount: int) -> str | None:
        if self.balance + amount < 0:
            return "below_zero"
        self.balance += amount
        return None


def outcome(response) -> str | None:
    if response.status_int == 201:
        return None
    return response.json["errors"][0]["logref"]


def post(api, url: str, body: dict):
    return api.client.post_json(url, body, headers={"Accept": "application/json"}, expect_errors=True)


def apply(api, card_pk: int, model: Model, operation: tuple, currency: str) -> None:
    kind, amount, extra = operation

    def written(minor: int) -> str:  # an amount as the card's currency writes it
        return format_minor(minor, currency)

    if kind == "redeem":
        expected, debit = model.redeem(amount, extra)
        response = post(api, f"/gift_cards/{card_pk}/redeem", {
            "product_id": f"thing-{currency}", "amount": written(amount), "allow_partial": extra})
        if expected is None:
            model.redemptions.append([response.json["id"], debit, 0])
    elif kind == "refund":
        if not model.redemptions:
            return
        redemption = model.redemptions[extra % len(model.redemptions)]
        expected = model.refund(redemption, amount)
        body = {} if amount is None else {"amount": written(amount)}
        response = post(api, f"/transactions/{redemption[0]}/refund", body)
    elif kind == "adjust":
        expected = model.adjust(amount)
        response = post(api, f"/gift_cards/{card_pk}/adjust", {"amount": written(amount), "reason": "p"})
    else:
        expected = model.reload(amount)
        response = post(api, f"/gift_cards/{card_pk}/reload", {"amount": written(amount)})
    assert outcome(response) == expected, (operation, response.text)


def ensure_world(api, currency: str) -> None:
    if not api.get(f"/products?product_id=thing-{currency}").json:
        api.post("/issuers", {"name": f"Shop {currency}", "currency_code": currency})
        api.post("/products", {"product_id": f"thing-{currency}", "name": "Thing", "price": 50,
                               "eligible_issuer": f"Shop {currency}"})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.integers(0, 20_000), headroom=st.none() | st.integers(0, 10_000),
       rechargeable=st.booleans(), single_use=st.booleans(), operations=OPERATIONS,
       currency=st.sampled_from(["USD", "JPY", "BHD"]))
def test_any_sequence_of_money_requests_keeps_the_ledger(app, json_client, initial, headroom, rechargeable,
                                                         single_use, operations, currency):
    ensure_world(json_client, currency)
    written = functools.partial(format_minor, currency_code=currency)
    balance_max = None if headroom is None else initial + headroom
    created = json_client.post("/gift_cards", {
        "card_id": f"prop-{next(CARD_NUMBERS)}", "issuer": f"Shop {currency}", "balance": written(initial),
        "balance_max": None if balance_max is None else written(balance_max),
        "rechargeable": rechargeable, "single_use": single_use}).json
    model = Model(initial, balance_max, rechargeable, single_use)
    for operation in operations:
        apply(json_client, created["id"], model, operation, currency)
        assert 0 <= model.balance <= MAX_CENTS
    assert balance_of(json_client, created["id"]).scaleb(decimals_of(currency)) == model.balance
    assert_ledger_holds(app)
