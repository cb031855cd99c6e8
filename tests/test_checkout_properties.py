"""Property (a hypothesis state machine) over the whole checkout, over HTTP: any sequence
of issue, authorize, capture, void, redeem, refund, reload, adjust, orders on several cards
(mode capture and mode authorize; payments with and without amounts) and order captures,
voids and refunds does exactly what a model of the rules kept by the test predicts: each
step the model refuses gets its 409 (or 422) and changes nothing, each step it allows goes
through. After every step:

- each card's balance and available_balance are the model's, ``0 <= available <= balance``;
- ``balance <= balance_max`` unless a refund (never limited by it) or an admin's
  adjustment (SPEC: balance_max limits reloads) took it above;
- each card's balance is the sum of its ledger entries, as ``GET /transactions`` shows them;
- each hold's captured amount is at most what it held, and its status is the model's;
- an order's refunds never exceed what each of its cards paid, and its held, paid and
  refunded are the model's;
- ``check-ledger``'s audit and the tests' own ledger check find nothing wrong.
"""
from __future__ import annotations

import decimal
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

from flexigift.money import format_cents
from ledger import assert_ledger_holds, ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import DOG_BED, KOHLS

HAL = "application/hal+json"
NUMBERS = itertools.count(1)
cents = st.integers(min_value=1, max_value=6_000)


def parsed(response) -> object:
    """A response body with its money as exact decimals."""
    return json.loads(response.body, parse_float=decimal.Decimal)


def minor(value) -> int:
    return int(decimal.Decimal(str(value)).scaleb(2))


def pk_of(link: dict | None) -> int | None:
    return None if link is None else int(link["href"].rstrip("/").rsplit("/", 1)[1])


@dataclass
class Card:
    balance: int
    balance_max: int | None
    raised_above_max_by: set[str] = field(default_factory=set)  # what took it above balance_max

    def credit(self, amount: int, kind: str) -> None:
        self.balance += amount
        if self.balance_max is not None and self.balance > self.balance_max:
            self.raised_above_max_by.add(kind)

    def debit(self, amount: int) -> None:
        self.balance -= amount
        if self.balance_max is None or self.balance <= self.balance_max:
            self.raised_above_max_by.clear()


@dataclass
class Hold:
    card: int
    amount: int
    order: int | None
    status: str = "active"
    captured: int = 0


@dataclass
class Redemption:
    card: int
    amount: int
    order: int | None
    refunded: int = 0


@dataclass
class Order:
    mode: str
    holds: list[int] = field(default_factory=list)


def machine_for(app, api):
    def post(url: str, body: dict):
        return api.client.post_json(url, body, headers={"Accept": "application/json"}, expect_errors=True)

    def outcome(response, success: int) -> str | None:
        """None for the success status; the logref of a 409 or 422; anything else fails the test."""
        if response.status_int == success:
            return None
        assert response.status_int in (409, 422), response.text
        return response.json["errors"][0]["logref"]

    def amount_body(amount: int | None) -> dict:
        return {} if amount is None else {"amount": format_cents(amount)}

    class Checkout(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.cards: dict[int, Card] = {}
            self.holds: dict[int, Hold] = {}
            self.redemptions: dict[int, Redemption] = {}
            self.orders: dict[int, Order] = {}

        # -- the model ---------------------------------------------------------------
        def held(self, card: int) -> int:
            return sum(hold.amount for hold in self.holds.values() if hold.card == card and hold.status == "active")

        def available(self, card: int) -> int:
            return self.cards[card].balance - self.held(card)

        def capture_hold(self, pk: int, amount: int, entry: int) -> None:
            hold = self.holds[pk]
            hold.status, hold.captured = "captured", amount
            self.cards[hold.card].debit(amount)
            self.redemptions[entry] = Redemption(hold.card, amount, hold.order)

        def refund_redemption(self, pk: int, amount: int) -> None:
            redemption = self.redemptions[pk]
            redemption.refunded += amount
            self.cards[redemption.card].credit(amount, "refund")

        def card_list(self) -> str:
            return ",".join(map(str, sorted(self.cards)))

        def around(self, data, target: int) -> int:
            """An amount: any, or one at the edge of ``target`` (what a rule allows), where bugs hide."""
            return data.draw(st.one_of(cents, st.integers(-2, 2).map(lambda delta: max(1, target + delta))))

        def pick_card(self, data) -> int:
            """Any card, or often one with money held (where holds and the rest meet)."""
            held = [card for card in sorted(self.cards) if self.held(card)]
            if held and data.draw(st.booleans()):
                return data.draw(st.sampled_from(held))
            return self.pick(data, self.cards)

        def pick(self, data, keys):
            return data.draw(st.sampled_from(sorted(keys)))

        # -- cards ---------------------------------------------------------------------
        def issue_one(self, balance: int, headroom: int | None) -> None:
            balance_max = None if headroom is None else balance + headroom
            created = api.post("/gift_cards", {
                "card_id": f"cp-{next(NUMBERS)}", "issuer": "Kohls", "balance": format_cents(balance),
                "balance_max": None if balance_max is None else format_cents(balance_max)}).json
            self.cards[created["id"]] = Card(balance, balance_max)

        @initialize(balances=st.lists(st.integers(0, 10_000), min_size=2, max_size=2),
                    headroom=st.none() | st.integers(0, 3_000))
        def two_cards(self, balances, headroom):
            self.issue_one(balances[0], headroom)
            self.issue_one(balances[1], None)

        @rule(balance=st.integers(0, 10_000), headroom=st.none() | st.integers(0, 3_000))
        def issue(self, balance, headroom):
            self.issue_one(balance, headroom)

        @rule(data=st.data())
        def redeem(self, data):
            card = self.pick_card(data)
            amount = self.around(data, self.available(card))
            expected = None if amount <= self.available(card) else "insufficient_balance"
            response = post(f"/gift_cards/{card}/redeem", {"product_id": DOG_BED["product_id"],
                                                           "amount": format_cents(amount)})
            assert outcome(response, 201) == expected, response.text
            if expected is None:
                self.cards[card].debit(amount)
                self.redemptions[response.json["id"]] = Redemption(card, amount, None)

        @rule(data=st.data())
        def reload(self, data):
            card = self.pick_card(data)
            model = self.cards[card]
            amount = self.around(data, (model.balance_max or 0) - model.balance)
            fits = model.balance_max is None or model.balance + amount <= model.balance_max
            expected = None if fits else "above_balance_max"
            response = post(f"/gift_cards/{card}/reload", {"amount": format_cents(amount)})
            assert outcome(response, 201) == expected, response.text
            if expected is None:
                model.credit(amount, "reload")

        @rule(data=st.data(), negative=st.booleans())
        def adjust(self, data, negative):
            card = self.pick_card(data)
            model = self.cards[card]
            target = self.available(card) if data.draw(st.booleans()) else model.balance
            amount = -self.around(data, target) if negative else data.draw(cents)
            expected = None if amount > 0 or model.balance + amount >= self.held(card) else "below_zero"
            response = post(f"/gift_cards/{card}/adjust", {"amount": format_cents(amount), "reason": "property"})
            assert outcome(response, 201) == expected, response.text
            if expected is None and amount > 0:
                model.credit(amount, "adjust")
            elif expected is None:
                model.debit(-amount)

        @precondition(lambda self: self.redemptions)
        @rule(data=st.data(), whole=st.booleans())
        def refund(self, data, whole):
            pk = self.pick(data, self.redemptions)
            redemption = self.redemptions[pk]
            left = redemption.amount - redemption.refunded
            amount = None if whole else self.around(data, left)
            back = left if amount is None else amount
            expected = "fully_refunded" if left == 0 else None if back <= left else "refund_exceeds_redemption"
            response = post(f"/transactions/{pk}/refund", amount_body(amount))
            assert outcome(response, 201) == expected, response.text
            if expected is None:
                self.refund_redemption(pk, back)

        # -- holds -------------------------------------------------------------------
        @rule(data=st.data())
        def authorize(self, data):
            card = self.pick_card(data)
            amount = self.around(data, self.available(card))
            expected = None if amount <= self.available(card) else "insufficient_balance"
            response = post(f"/gift_cards/{card}/authorize", {"amount": format_cents(amount)})
            assert outcome(response, 201) == expected, response.text
            if expected is None:
                self.holds[response.json["id"]] = Hold(card, amount, None)

        @precondition(lambda self: self.holds)
        @rule(data=st.data(), whole=st.booleans())
        def capture(self, data, whole):
            pk = self.pick(data, self.holds)
            hold = self.holds[pk]
            amount = None if whole else self.around(data, hold.amount)
            take = hold.amount if amount is None else amount
            expected = (f"hold_{hold.status}" if hold.status != "active"
                        else None if take <= hold.amount else "capture_exceeds_hold")
            response = post(f"/holds/{pk}/capture", amount_body(amount))
            assert outcome(response, 201) == expected, response.text
            if expected is None:
                assert minor(response.json["amount"]) == -take
                self.capture_hold(pk, take, response.json["id"])

        @precondition(lambda self: self.holds)
        @rule(data=st.data())
        def void(self, data):
            pk = self.pick(data, self.holds)
            hold = self.holds[pk]
            expected = None if hold.status == "active" else f"hold_{hold.status}"
            response = post(f"/holds/{pk}/void", {})
            assert outcome(response, 200) == expected, response.text
            if expected is None:
                hold.status = "voided"

        # -- orders ------------------------------------------------------------------
        def predict_order(self, amount: int, payments: list[tuple[int, int | None]]):
            """(refusal or None, [(card, share)]), as the service decides."""
            explicit = sum(share or 0 for _, share in payments)
            if explicit > amount or (all(share is not None for _, share in payments) and explicit != amount):
                return "validation_failed", []
            left, shares = amount - explicit, []
            for card, share in payments:
                available = self.available(card)
                if share is None:
                    if left == 0:
                        continue
                    if available <= 0:
                        return "insufficient_balance", []
                    share = min(available, left)
                    left -= share
                elif available < share:
                    return "insufficient_balance", []
                shares.append((card, share))
            return ("insufficient_balance", []) if left else (None, shares)

        @rule(data=st.data(), explicit=st.lists(st.none() | st.none() | st.integers(1, 3_000), min_size=1, max_size=3))
        def order_paid_now(self, data, explicit):
            self.order(data, "capture", explicit)

        @rule(data=st.data(), explicit=st.lists(st.none() | st.none() | st.integers(1, 3_000), min_size=1, max_size=3))
        def order_authorized(self, data, explicit):
            self.order(data, "authorize", explicit)

        def order(self, data, mode, explicit):
            explicit = explicit[:len(self.cards)]
            paying = data.draw(st.lists(st.sampled_from(sorted(self.cards)), min_size=len(explicit),
                                        max_size=len(explicit), unique=True))
            payments = list(zip(paying, explicit))
            # mostly amounts the payments can add up to (the service's 422 otherwise), often at
            # the edge of what the cards filling the rest have available
            given = sum(share or 0 for share in explicit)
            filling = sum(max(0, self.available(card)) for card, share in payments if share is None)
            if None not in explicit:
                amount = given if data.draw(st.integers(0, 9)) else data.draw(cents)
            else:
                amount = given + self.around(data, filling)
            expected, shares = self.predict_order(amount, payments)
            response = post("/orders", {
                "order_reference": f"cp-order-{next(NUMBERS)}", "amount": format_cents(amount),
                "currency_code": "USD", "mode": mode,
                "payments": [{"card_id": card, **amount_body(share)} for card, share in payments]})
            assert outcome(response, 201) == expected, response.text
            if expected is not None:
                return
            pk = response.json["id"]
            self.orders[pk] = order = Order(mode)
            if mode == "capture":
                entries = sorted(api.get(f"/transactions?order_id={pk}&limit=50").json, key=lambda e: e["id"])
                assert [-minor(entry["amount"]) for entry in entries] == [share for _, share in shares]
                for entry, (card, share) in zip(entries, shares):
                    self.cards[card].debit(share)
                    self.redemptions[entry["id"]] = Redemption(card, share, pk)
            else:
                held = sorted(api.get(f"/holds?order_id={pk}&limit=50").json, key=lambda h: h["id"])
                assert [minor(hold["amount"]) for hold in held] == [share for _, share in shares]
                for hold, (card, share) in zip(held, shares):
                    self.holds[hold["id"]] = Hold(card, share, pk)
                    order.holds.append(hold["id"])

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), whole=st.booleans())
        def capture_order(self, data, whole):
            pk = self.pick(data, self.orders)
            live = [hold for hold in self.orders[pk].holds if self.holds[hold].status == "active"]
            total = sum(self.holds[hold].amount for hold in live)
            amount = None if whole else self.around(data, total)
            take = total if amount is None else amount
            expected = "nothing_held" if total == 0 else None if take <= total else "capture_exceeds_hold"
            response = post(f"/orders/{pk}/capture", amount_body(amount))
            assert outcome(response, 200) == expected, response.text
            if expected is not None:
                return
            left = take
            for hold in live:
                if left == 0:
                    break
                part = min(self.holds[hold].amount, left)
                [entry] = api.get(f"/transactions?hold_id={hold}").json
                assert minor(entry["amount"]) == -part
                self.capture_hold(hold, part, entry["id"])
                left -= part

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def void_order(self, data):
            pk = self.pick(data, self.orders)
            live = [hold for hold in self.orders[pk].holds if self.holds[hold].status == "active"]
            response = post(f"/orders/{pk}/void", {})
            assert outcome(response, 200) == (None if live else "nothing_held"), response.text
            for hold in live:
                self.holds[hold].status = "voided"

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def refund_order(self, data):
            self.refund_an_order(self.pick(data, self.orders), None)

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def refund_part_of_an_order(self, data):
            pk = self.pick(data, self.orders)
            left = sum(r.amount - r.refunded for r in self.redemptions.values() if r.order == pk)
            self.refund_an_order(pk, self.around(data, left))

        def refund_an_order(self, pk: int, amount: int | None) -> None:
            charges = sorted((entry for entry, redemption in self.redemptions.items() if redemption.order == pk),
                             reverse=True)
            total = sum(self.redemptions[entry].amount - self.redemptions[entry].refunded for entry in charges)
            back = total if amount is None else amount
            expected = "fully_refunded" if total == 0 else None if back <= total else "refund_exceeds_redemption"
            response = post(f"/orders/{pk}/refund", amount_body(amount))
            assert outcome(response, 200) == expected, response.text
            if expected is not None:
                return
            left = back
            for entry in charges:  # the reverse order of charging, never more than each paid
                part = min(self.redemptions[entry].amount - self.redemptions[entry].refunded, left)
                if part:
                    self.refund_redemption(entry, part)
                    left -= part

        # -- after every step ------------------------------------------------------------
        @invariant()
        def cards_match_the_model(self):
            shown = {card["id"]: card for card in parsed(api.get(f"/gift_cards?id:in={self.card_list()}&limit=300"))}
            assert set(shown) == set(self.cards)
            for pk, model in self.cards.items():
                balance, available = minor(shown[pk]["balance"]), minor(shown[pk]["available_balance"])
                assert (balance, available) == (model.balance, self.available(pk)), pk
                assert 0 <= available <= balance
                if model.balance_max is not None and balance > model.balance_max:
                    assert model.raised_above_max_by and model.raised_above_max_by <= {"refund", "adjust"}

        @invariant()
        def ledgers_holds_and_orders_add_up(self):
            entries = []
            for pk in self.cards:
                page = parsed(api.client.get(f"/gift_cards/{pk}/transactions?limit=300", headers={"Accept": HAL}))
                entries += page["_embedded"]["fg:transactions"]
                assert len(page["_embedded"]["fg:transactions"]) < 300
            ledger: dict[int, int] = defaultdict(int)
            paid: dict[tuple[int, int], int] = defaultdict(int)  # (order, card) → paid
            refunded: dict[tuple[int, int], int] = defaultdict(int)
            for entry in entries:
                card, order = pk_of(entry["_links"]["fg:gift_card"]), pk_of(entry["_links"].get("fg:order"))
                ledger[card] += minor(entry["amount"])
                if order is not None and entry["kind"] == "redeem":
                    paid[order, card] -= minor(entry["amount"])
                elif order is not None and entry["kind"] == "refund":
                    refunded[order, card] += minor(entry["amount"])
            assert dict(ledger) == {pk: model.balance for pk, model in self.cards.items()}
            for key, amount in refunded.items():
                assert amount <= paid[key], key
            for hold in parsed(api.get(f"/holds?gift_card:in={self.card_list()}&limit=300")):
                model = self.holds[hold["id"]]
                assert minor(hold["captured"]) <= minor(hold["amount"]) == model.amount
                assert (hold["status"], minor(hold["captured"])) == (model.status, model.captured)
            orders = parsed(api.get(f"/orders?id:in={','.join(map(str, self.orders))}")) if self.orders else []
            assert {order["id"] for order in orders} == set(self.orders)
            for order in orders:
                mine = [r for r in self.redemptions.values() if r.order == order["id"]]
                held = sum(self.holds[hold].amount for hold in self.orders[order["id"]].holds
                           if self.holds[hold].status == "active")
                assert (minor(order["held"]), minor(order["paid"]), minor(order["refunded"])) == \
                    (held, sum(r.amount for r in mine), sum(r.refunded for r in mine)), order

        def teardown(self):
            assert_ledger_holds(app)  # the audit reads the whole database: once a sequence

    return Checkout


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_any_checkout_sequence_does_what_the_model_predicts(app, json_client):
    json_client.post("/issuers", KOHLS)
    json_client.post("/products", DOG_BED)
    run_state_machine_as_test(machine_for(app, json_client), settings=settings(
        max_examples=25, stateful_step_count=25, deadline=None, derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
