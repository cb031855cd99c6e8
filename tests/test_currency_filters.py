"""Money filters in every currency (issue 12): an amount in a query is read in the
row's currency, as its representation shows it (``balance:greaterthan=50`` is 50
yen on a JPY card, 50.00 dollars on a USD card, 50.000 dinars on a BHD card),
on every collection that filters money, on both databases."""
from __future__ import annotations

import decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from api_helpers import items_of
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from query_count import count_queries

#: (issuer, currency, card balances as shown in that currency)
SHOPS = [
    ("Yen", "JPY", ["50", "51", "5000", "49"]),
    ("Dollar", "USD", ["50", "50.01", "0.5", "49.99"]),
    ("Dinar", "BHD", ["50", "50.001", "0.05", "49.999"]),
]


@pytest.fixture
def shops(json_client):
    for name, currency, balances in SHOPS:
        json_client.post("/issuers", {"name": name, "currency_code": currency})
        json_client.post("/products", {"product_id": f"{name}-p", "name": "Thing", "price": balances[0],
                                       "eligible_issuer": name})
        for number, balance in enumerate(balances):
            json_client.post("/gift_cards", {"card_id": f"{name}-{number}", "issuer": name, "balance": balance})
    return json_client


def codes(client, url: str, collection: str = "gift_cards", key: str = "card_id") -> list[str]:
    return [item[key] for item in items_of(client.get(f"{url}&limit=300"), f"fg:{collection}")]


@pytest.mark.parametrize("query, expected", [
    ("balance=50", ["Yen-0", "Dollar-0", "Dinar-0"]),
    ("balance:greaterthan=50", ["Yen-1", "Yen-2", "Dollar-1", "Dinar-1"]),
    ("balance:lessthan=50", ["Yen-3", "Dollar-2", "Dollar-3", "Dinar-2", "Dinar-3"]),
    ("balance:greaterthanorequal=50.001", ["Yen-1", "Yen-2", "Dollar-1", "Dinar-1"]),
    ("balance:lessthanorequal=49.999", ["Yen-3", "Dollar-2", "Dollar-3", "Dinar-2", "Dinar-3"]),
    ("balance=50.001", ["Dinar-1"]),
    ("balance=0.5", ["Dollar-2"]),
    ("balance:in=0.05,51", ["Yen-1", "Dinar-2"]),
    ("balance=49.99..50.01", ["Yen-0", "Dollar-0", "Dollar-1", "Dollar-3", "Dinar-0", "Dinar-1", "Dinar-3"]),
    ("balance:not=50", ["Yen-1", "Yen-2", "Yen-3", "Dollar-1", "Dollar-2", "Dollar-3",
                        "Dinar-1", "Dinar-2", "Dinar-3"]),
    ("balance=50.0001", []),
    ("balance:lessthan=-999999999999999", []),  # past any amount in every currency's minor units
    ("balance:greaterthan=999999999999999.9999", []),
])
def test_a_money_filter_reads_the_amount_in_each_cards_currency(shops, query, expected):
    assert codes(shops, f"/gift_cards?{query}") == expected


def test_every_money_collection_reads_amounts_in_its_currency(shops):
    assert codes(shops, "/products?price=50", "products", "product_id") == ["Yen-p", "Dollar-p", "Dinar-p"]
    assert codes(shops, "/products?price:greaterthan=49.9995", "products", "product_id") == [
        "Yen-p", "Dollar-p", "Dinar-p"]
    for name, _, _ in SHOPS:  # each shop: a reload of 1 on card 2, a hold and an order of 50
        cards = {card["card_id"]: card["id"] for card in shops.get(f"/gift_cards?card_id={name}-*").json}
        shops.post(f"/gift_cards/{cards[f'{name}-2']}/reload", {"amount": "1"})
        shops.post(f"/gift_cards/{cards[f'{name}-1']}/authorize", {"product_id": f"{name}-p"})
        shops.post("/orders", {"order_reference": f"o-{name}", "product_id": f"{name}-p",
                               "payments": [{"card_id": cards[f"{name}-0"]}]})
    assert len(shops.get("/transactions?kind=reload&amount=1&limit=50").json) == 3
    assert shops.get("/transactions?kind=reload&amount=0.01&limit=50").json == []
    assert [entry["currency_code"] for entry in shops.get("/transactions?amount=-50&limit=50").json] == [
        "JPY", "USD", "BHD"]
    assert [hold["currency_code"] for hold in shops.get("/holds?amount=50&limit=50").json] == [
        "JPY", "USD", "BHD"]
    assert shops.get("/holds?amount=0.05&limit=50").json == []
    assert [order["currency_code"] for order in shops.get("/orders?amount=50&limit=50").json] == [
        "JPY", "USD", "BHD"]
    assert shops.get("/orders?amount:lessthan=50&limit=50").json == []


def test_a_money_filter_costs_one_query_more_whatever_the_page(shops):
    for limit in (1, 5):
        with count_queries() as counted:
            shops.get(f"/gift_cards?balance:greaterthan=0&limit={limit}")
        assert counted.count == 3, counted.report()  # currencies in use, the count, the page


@pytest.mark.parametrize("query", ["balance=1.00005", "balance=1e3", "balance=NaN", "balance=--1",
                                   "balance=1.", "balance=.5", "balance=" + "9" * 25,
                                   "balance=1000000000000001"])
def test_a_money_filter_that_is_not_an_amount_is_a_400_naming_it(shops, query):
    response = shops.get(f"/gift_cards?{query}", status=400)
    assert response.json["errors"][0]["field"] == "balance"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(threshold=st.decimals(min_value=-1, max_value=6000, places=3, allow_nan=False, allow_infinity=False),
       op=st.sampled_from(["eq", "lessthan", "lessthanorequal", "greaterthan", "greaterthanorequal"]))
def test_a_money_filter_agrees_with_the_shown_balances(shops, threshold, op):
    compare = {"eq": lambda a, b: a == b, "lessthan": lambda a, b: a < b, "lessthanorequal": lambda a, b: a <= b,
               "greaterthan": lambda a, b: a > b, "greaterthanorequal": lambda a, b: a >= b}[op]
    expected = [f"{name}-{number}" for name, currency, balances in SHOPS
                for number, balance in enumerate(balances) if compare(decimal.Decimal(balance), threshold)]
    parameter = "balance" if op == "eq" else f"balance:{op}"
    assert codes(shops, f"/gift_cards?{parameter}={threshold}") == expected
