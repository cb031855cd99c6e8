"""Property (a hypothesis state machine): any sequence of issue, authorize, capture,
void, redeem, refund, reload and order requests on several cards does what a simple
model of the rules predicts, and after every step each card's balance and
available_balance are the model's, ``0 <= available_balance <= balance``, and the
ledger and hold invariants hold (``check-ledger``'s audit and the tests' own)."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from flexigift.money import format_cents
from ledger import assert_ledger_holds, ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import DOG_BED, KOHLS, exact

NUMBERS = itertools.count(1)
cents = st.integers(min_value=1, max_value=6_000)


def post(api, url: str, body: dict):
    return api.client.post_json(url, body, headers={"Accept": "application/json"}, expect_errors=True)


def succeeded(response) -> bool:
    assert response.status_int in (200, 201, 409), response.text
    return response.status_int in (200, 201)


def machine_for(app, api):
    class Checkout(RuleBasedStateMachine):
        cards = Bundle("cards")
        holds = Bundle("holds")
        redemptions = Bundle("redemptions")

        def __init__(self):
            super().__init__()
            self.balance: dict[int, int] = {}
            self.active: dict[int, tuple[int, int]] = {}  # hold → (card, amount)
            self.left: dict[int, int] = {}  # redemption → what is left to refund

        def available(self, card: int) -> int:
            return self.balance[card] - sum(amount for pk, amount in self.active.values() if pk == card)

        @rule(target=cards, balance=st.integers(0, 10_000))
        def issue(self, balance):
            created = api.post("/gift_cards", {"card_id": f"sm-{next(NUMBERS)}", "issuer": "Kohls",
                                               "balance": format_cents(balance)}).json
            self.balance[created["id"]] = balance
            return created["id"]

        @rule(target=holds, card=cards, amount=cents)
        def authorize(self, card, amount):
            response = post(api, f"/gift_cards/{card}/authorize", {"amount": format_cents(amount)})
            assert succeeded(response) == (amount <= self.available(card)), response.text
            if response.status_int == 201:
                self.active[response.json["id"]] = (card, amount)
                return response.json["id"]
            return -1

        @rule(target=redemptions, hold=holds, amount=st.none() | cents)
        def capture(self, hold, amount):
            if hold < 0:
                return -1
            body = {} if amount is None else {"amount": format_cents(amount)}
            response = post(api, f"/holds/{hold}/capture", body)
            expected = hold in self.active and (amount is None or amount <= self.active[hold][1])
            assert succeeded(response) == expected, response.text
            if not expected:
                return -1
            card, held = self.active.pop(hold)
            taken = held if amount is None else amount
            self.balance[card] -= taken
            self.left[response.json["id"]] = taken
            return response.json["id"]

        @rule(hold=holds)
        def void(self, hold):
            if hold < 0:
                return
            response = post(api, f"/holds/{hold}/void", {})
            assert succeeded(response) == (hold in self.active), response.text
            self.active.pop(hold, None)

        @rule(target=redemptions, card=cards, amount=cents)
        def redeem(self, card, amount):
            response = post(api, f"/gift_cards/{card}/redeem", {"product_id": DOG_BED["product_id"],
                                                                "amount": format_cents(amount)})
            assert succeeded(response) == (amount <= self.available(card)), response.text
            if response.status_int != 201:
                return -1
            self.balance[card] -= amount
            self.left[response.json["id"]] = amount
            return response.json["id"]

        @rule(redemption=redemptions, amount=st.none() | cents)
        def refund(self, redemption, amount):
            if redemption < 0:
                return
            body = {} if amount is None else {"amount": format_cents(amount)}
            response = post(api, f"/transactions/{redemption}/refund", body)
            left = self.left[redemption]
            back = left if amount is None else amount
            assert succeeded(response) == (0 < back <= left), response.text
            if response.status_int == 201:
                self.left[redemption] -= back
                self.balance[self._card_of(redemption)] += back

        def _card_of(self, entry: int) -> int:
            href = api.client.get(f"/transactions/{entry}", headers={"Accept": "application/hal+json"}) \
                .json["_links"]["fg:gift_card"]["href"]
            return int(href.rsplit("/", 1)[1])

        @rule(card=cards, amount=cents)
        def reload(self, card, amount):
            assert succeeded(post(api, f"/gift_cards/{card}/reload", {"amount": format_cents(amount)}))
            self.balance[card] += amount

        @rule(paying=st.lists(cards, min_size=1, max_size=3, unique=True), amount=cents,
              mode=st.sampled_from(["capture", "authorize"]))
        def order(self, paying, amount, mode):
            response = post(api, "/orders", {
                "order_reference": f"sm-order-{next(NUMBERS)}", "amount": format_cents(amount),
                "currency_code": "USD", "mode": mode, "payments": [{"card_id": pk} for pk in paying]})
            left, shares = amount, []
            for pk in paying:
                if left == 0:
                    break
                share = min(self.available(pk), left)
                if share <= 0:
                    break  # this card has nothing available: the order is refused
                shares.append((pk, share))
                left -= share
            assert succeeded(response) == (left == 0), response.text
            if left:
                return
            if mode == "capture":
                for pk, share in shares:
                    self.balance[pk] -= share
                entries = api.get(f"/transactions?order_id={response.json['id']}").json
                for entry in entries:
                    self.left[entry["id"]] = -int(round(entry["amount"] * 100))
            else:
                held = api.get(f"/holds?order_id={response.json['id']}").json
                for hold, (pk, share) in zip(held, shares):
                    assert int(round(hold["amount"] * 100)) == share
                    self.active[hold["id"]] = (pk, share)

        @invariant()
        def cards_match_the_model(self):
            for pk, balance in self.balance.items():
                shown = api.get(f"/gift_cards/{pk}")
                available = exact(shown, "available_balance") * 100
                assert exact(shown, "balance") * 100 == balance
                assert available == self.available(pk)
                assert 0 <= available <= balance
            assert_ledger_holds(app)

    return Checkout


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_any_sequence_of_checkout_requests_keeps_every_invariant(app, json_client):
    json_client.post("/issuers", KOHLS)
    json_client.post("/products", DOG_BED)
    run_state_machine_as_test(machine_for(app, json_client), settings=settings(
        max_examples=12, stateful_step_count=14, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
