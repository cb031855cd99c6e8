"""Holds and orders in currencies other than the dollar: authorize, capture, void, orders
and order refunds read amounts in their currency's ISO 4217 minor units (JPY "1000", BHD
"1.234"), refuse an amount with more decimals than the currency has (422 naming the field
and the currency, nothing written) and show amounts exactly, in plain JSON and HAL+JSON."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest

from api_helpers import api, database_snapshot, fields_at_fault, items_of, messages  # noqa: F401 (fixture)
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import logref


@dataclass(frozen=True)
class Money:
    """A currency and amounts written as its clients write them (``minor``: in minor units)."""

    code: str
    balance: str  # each card's balance
    held: str  # an amount to authorize
    part: str  # a part of it to capture
    left: str  # balance - part (what the card holds after the capture)
    too_precise: str  # one decimal more than the currency has
    unit: int  # minor units per major unit

    def minor(self, text: str) -> int:
        return int(round(float(text) * self.unit))

    def text(self, minor: int) -> str:
        places = len(str(self.unit)) - 1
        return f"{minor / self.unit:.{places}f}"


YEN = Money("JPY", balance="5000", held="1000", part="400", left="4600", too_precise="10.5", unit=1)
DINARS = Money("BHD", balance="5.000", held="1.234", part="0.234", left="4.766", too_precise="1.2345", unit=1000)
CURRENCIES = [pytest.param(YEN, id="JPY"), pytest.param(DINARS, id="BHD")]


def raw(response, key: str) -> str:
    """A JSON property's exact text (numbers as sent, never through a float)."""
    return str(json.loads(response.body, parse_float=str, parse_int=str)[key])


def same_amount(shown: str, expected: str) -> bool:
    """``1.234`` shown as ``1.234``; a whole amount may drop its zeros (``5.000`` as ``5``)."""
    return Decimal(shown) == Decimal(expected) and len(shown.partition(".")[2]) <= len(expected.partition(".")[2])


def world(api, money: Money, cards: int = 2) -> list[dict]:
    api.client.post_json("/issuers", {"name": "Shop", "currency_code": money.code},
                         headers={"Accept": "application/json"})
    api.client.post_json("/products", {"product_id": "p-1", "name": "Thing", "price": money.held,
                                       "eligible_issuer": "Shop"}, headers={"Accept": "application/json"})
    return [api.client.post_json("/gift_cards", {"card_id": f"c-{n}", "issuer": "Shop", "balance": money.balance},
                                 headers={"Accept": "application/json"}).json
            for n in range(1, cards + 1)]


def post(api, url: str, body: dict, status: int):
    return api.post(url, body, status=status)


def refused_for_precision(app, api, url: str, body: dict, field: str, money: Money) -> None:
    """422 naming ``field`` and the currency, in the negotiated media type; nothing written."""
    before = database_snapshot(app)
    response = post(api, url, body, 422)
    assert response.content_type == api.accept
    assert fields_at_fault(response) == [field]
    assert money.code in messages(response)
    assert database_snapshot(app) == before


@pytest.mark.parametrize("money", CURRENCIES)
def test_authorize_capture_and_void_read_and_show_the_cards_currency(app, api, money):
    one, _ = world(api, money)
    card_url = f"/gift_cards/{one['id']}"
    refused_for_precision(app, api, f"{card_url}/authorize", {"amount": money.too_precise}, "amount", money)
    hold = post(api, f"{card_url}/authorize", {"amount": money.held}, 201)
    assert hold.content_type == api.accept
    assert same_amount(raw(hold, "amount"), money.held) and raw(hold, "currency_code") == money.code
    shown = api.get(card_url)
    assert money.minor(raw(shown, "available_balance")) == money.minor(money.balance) - money.minor(money.held)
    assert money.minor(raw(shown, "balance")) == money.minor(money.balance)

    hold_url = f"/holds/{hold.json['id']}"
    refused_for_precision(app, api, f"{hold_url}/capture", {"amount": money.too_precise}, "amount", money)
    entry = post(api, f"{hold_url}/capture", {"amount": money.part}, 201)
    assert same_amount(raw(entry, "amount").lstrip("-"), money.part) and raw(entry, "amount").startswith("-")
    assert same_amount(raw(entry, "balance_after"), money.left)
    settled = api.get(hold_url)
    assert (settled.json["status"], raw(settled, "captured")) == ("captured", raw(entry, "amount").lstrip("-"))
    shown = api.get(card_url)
    assert raw(shown, "balance") == raw(shown, "available_balance") == raw(entry, "balance_after")

    # a hold of the product's price (in the currency), voided: all of it is available again
    priced = post(api, f"{card_url}/authorize", {"product_id": "p-1"}, 201)
    assert same_amount(raw(priced, "amount"), money.held)
    voided = post(api, f"/holds/{priced.json['id']}/void", {}, 200)
    assert voided.json["status"] == "voided"
    assert raw(api.get(card_url), "available_balance") == raw(entry, "balance_after")


@pytest.mark.parametrize("money", CURRENCIES)
def test_a_refusal_names_amounts_in_the_cards_currency(api, money):
    one, _ = world(api, money)
    everything = money.text(money.minor(money.balance) + 1)
    response = post(api, f"/gift_cards/{one['id']}/authorize", {"amount": everything}, 409)
    assert logref(response) == "insufficient_balance"
    assert f"{money.balance} {money.code}" in messages(response) and everything in messages(response)
    hold = post(api, f"/gift_cards/{one['id']}/authorize", {"amount": money.held}, 201).json
    response = post(api, f"/holds/{hold['id']}/capture", {"amount": money.text(money.minor(money.held) + 1)}, 409)
    assert logref(response) == "capture_exceeds_hold" and money.held in messages(response)


@pytest.mark.parametrize("money", CURRENCIES)
def test_orders_on_several_cards_read_and_show_their_currency(app, api, money):
    first, second = world(api, money)
    total = money.text(2 * money.minor(money.held))
    order = {"order_reference": "o-1", "currency_code": money.code, "amount": total,
             "payments": [{"card_id": first["id"], "amount": money.held}, {"card_id": second["id"]}]}
    refused_for_precision(app, api, "/orders", {**order, "amount": money.too_precise}, "amount", money)
    refused_for_precision(app, api, "/orders", {**order, "payments": [
        {"card_id": first["id"], "amount": money.too_precise}, {"card_id": second["id"]}]},
        "payments.0.amount", money)
    created = post(api, "/orders", order, 201)
    assert created.content_type == api.accept
    assert same_amount(raw(created, "amount"), total) and same_amount(raw(created, "paid"), total)
    for card in (first, second):
        left = money.minor(money.balance) - money.minor(money.held)
        assert money.minor(raw(api.get(f"/gift_cards/{card['id']}"), "balance")) == left

    order_url = f"/orders/{created.json['id']}"
    refused_for_precision(app, api, f"{order_url}/refund", {"amount": money.too_precise}, "amount", money)
    refunded = post(api, f"{order_url}/refund", {"amount": money.part}, 200)
    assert same_amount(raw(refunded, "refunded"), money.part)
    assert refunded.json["status"] == "partially_refunded"
    # the reverse order of charging: the second card gets it back
    assert money.minor(raw(api.get(f"/gift_cards/{second['id']}"), "balance")) == \
        money.minor(money.balance) - money.minor(money.held) + money.minor(money.part)
    too_much = money.text(2 * money.minor(money.held))
    response = post(api, f"{order_url}/refund", {"amount": too_much}, 409)
    assert logref(response) == "refund_exceeds_redemption" and too_much in messages(response)
    done = post(api, f"{order_url}/refund", {}, 200)
    assert done.json["status"] == "refunded" and raw(done, "refunded") == raw(done, "paid")
    for card in (first, second):
        assert money.minor(raw(api.get(f"/gift_cards/{card['id']}"), "balance")) == money.minor(money.balance)


@pytest.mark.parametrize("money", CURRENCIES)
def test_an_authorized_order_captures_in_its_currency(app, api, money):
    first, second = world(api, money)
    created = post(api, "/orders", {"order_reference": "o-2", "product_id": "p-1", "mode": "authorize",
                                    "payments": [{"card_id": first["id"], "amount": money.part},
                                                 {"card_id": second["id"]}]}, 201)
    assert (created.json["status"], raw(created, "currency_code")) == ("authorized", money.code)
    assert same_amount(raw(created, "held"), money.held)
    holds = items_of(api.get(f"/holds?order_id={created.json['id']}"), "fg:holds")
    assert [money.minor(str(hold["amount"])) for hold in holds] == \
        [money.minor(money.part), money.minor(money.held) - money.minor(money.part)]
    order_url = f"/orders/{created.json['id']}"
    refused_for_precision(app, api, f"{order_url}/capture", {"amount": money.too_precise}, "amount", money)
    captured = post(api, f"{order_url}/capture", {"amount": money.part}, 200)
    assert same_amount(raw(captured, "paid"), money.part)
    assert captured.json["status"] == "authorized"  # the second card's hold is still active
    voided = post(api, f"{order_url}/void", {}, 200)
    assert (voided.json["status"], raw(voided, "held")) == ("paid", "0")
    assert money.minor(raw(api.get(f"/gift_cards/{first['id']}"), "balance")) == \
        money.minor(money.balance) - money.minor(money.part)
    assert raw(api.get(f"/gift_cards/{second['id']}"), "available_balance") == \
        raw(api.get(f"/gift_cards/{second['id']}"), "balance")


@pytest.mark.parametrize("money", CURRENCIES)
def test_an_order_in_another_currency_than_its_cards_is_refused(api, money):
    first, _ = world(api, money)
    response = post(api, "/orders", {"order_reference": "o-3", "currency_code": "USD", "amount": "1.00",
                                     "payments": [{"card_id": first["id"]}]}, 409)
    assert logref(response) == "currency_mismatch"


def test_html_forms_send_amounts_in_the_currency_too(client, json_client):
    """A form's text is read in the card's (or the order's) currency, as JSON is."""
    first, second = world(type(json_client)(client), YEN)
    form = {"Accept": "application/json"}
    hold = client.post(f"/gift_cards/{first['id']}/authorize", {"amount": "1000", "product_id": ""},
                       headers=form, status=201).json
    assert hold["amount"] == 1000
    refused = client.post(f"/gift_cards/{first['id']}/authorize", {"amount": "10.5", "product_id": ""},
                          headers=form, status=422)
    assert fields_at_fault(refused) == ["amount"] and "JPY" in messages(refused)
    order = client.post("/orders", {"order_reference": "form", "amount": "1500", "currency_code": "JPY",
                                    "payments": f"{first['id']}:500, {second['id']}"}, headers=form, status=201).json
    assert (order["amount"], order["paid"]) == (1500, 1500)
    refused = client.post("/orders", {"order_reference": "form", "amount": "1500", "currency_code": "JPY",
                                      "payments": f"{first['id']}:500.5"}, headers=form, status=422)
    assert fields_at_fault(refused) == ["payments.0.amount"]
    assert json_client.get(f"/gift_cards/{first['id']}").json["balance"] == 4500
