"""Money in every currency through the API: amounts are validated, stored and shown
in their currency's ISO 4217 minor units (JPY "1000", BHD "1.250"), in every flow."""
from __future__ import annotations

import json

import pytest

from api_helpers import database_snapshot
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import field_of, logref

MEDIA_TYPES = ["application/json", "application/hal+json", SIREN, "application/hal+xml", "text/html"]


def world(api, currency: str, balance, price) -> tuple[dict, dict]:
    api.post("/issuers", {"name": "Shop", "currency_code": currency})
    product = api.post("/products", {"product_id": "p-1", "name": "Thing", "price": price,
                                     "eligible_issuer": "Shop"}).json
    card = api.post("/gift_cards", {"card_id": "c-1", "issuer": "Shop", "balance": balance}).json
    return card, product


def raw(response, key: str) -> str:
    """A JSON property's exact text (numbers as sent, never through a float)."""
    return str(json.loads(response.body, parse_float=str, parse_int=str)[key])


def test_yen_have_no_decimals_in_any_flow(app, json_client):
    card, product = world(json_client, "JPY", 1000, 300)
    assert (card["balance"], product["price"]) == (1000, "300")
    url = f"/gift_cards/{card['id']}"
    redeemed = json_client.post(f"{url}/redeem", {"product_id": "p-1"}).json
    assert (redeemed["amount"], redeemed["balance_after"]) == (-300, 700)
    json_client.post(f"/transactions/{redeemed['id']}/refund", {"amount": 100})
    json_client.post(f"{url}/reload", {"amount": 5})
    assert json_client.post(f"{url}/adjust", {"amount": -5, "reason": "x"}).json["balance_after"] == 800
    assert json_client.get(url).json["balance"] == 800
    json_client.post("/users", {"user_id": "u1"})
    json_client.patch(url, {"user_id": "u1"})
    options = json_client.get(f"/products/{product['id']}/payment_options?user_id=u1")
    assert '"800"' not in options.text and "800" in options.text and "800.00" not in options.text


@pytest.mark.parametrize("path, body", [
    ("redeem", {"product_id": "p-1", "amount": "1.5"}), ("reload", {"amount": "0.5"}),
    ("adjust", {"amount": "-0.01", "reason": "x"})])
def test_an_amount_with_decimals_in_yen_is_422_naming_the_currency(app, json_client, path, body):
    card, _ = world(json_client, "JPY", 1000, 300)
    before = database_snapshot(app)
    response = json_client.post(f"/gift_cards/{card['id']}/{path}", body, status=422)
    assert field_of(response) == "amount" and "JPY" in response.text
    assert database_snapshot(app) == before


def test_a_yen_refund_with_decimals_is_422(json_client):
    card, _ = world(json_client, "JPY", 1000, 300)
    redeemed = json_client.post(f"/gift_cards/{card['id']}/redeem", {"product_id": "p-1"}).json
    response = json_client.post(f"/transactions/{redeemed['id']}/refund", {"amount": "1.5"}, status=422)
    assert field_of(response) == "amount" and "JPY" in response.text


@pytest.mark.parametrize("resource, body, field", [
    ("gift_cards", {"card_id": "c-2", "issuer": "Shop", "balance": "10.5"}, "balance"),
    ("gift_cards", {"card_id": "c-2", "issuer": "Shop", "balance": 10, "balance_max": "20.1"}, "balance_max"),
    ("products", {"product_id": "p-2", "name": "x", "price": "1.25", "eligible_issuer": "Shop"}, "price")])
def test_issuing_and_pricing_in_yen_refuse_decimals(json_client, resource, body, field):
    world(json_client, "JPY", 1000, 300)
    response = json_client.post(f"/{resource}", body, status=422)
    assert field_of(response) == field and "JPY" in response.text


def test_a_card_asking_for_dinars_takes_three_decimals(json_client):
    world(json_client, "JPY", 1000, 300)
    card = json_client.post("/gift_cards", {"card_id": "c-9", "issuer": "Shop", "currency_code": "BHD",
                                            "balance": "1.255"}).json
    assert card["currency_code"] == "BHD"
    assert raw(json_client.get(f"/gift_cards/{card['id']}"), "balance") == "1.255"


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_dinars_show_three_decimals_in_every_media_type(client, json_client, accept):
    card, product = world(json_client, "BHD", "1.250", "0.125")
    assert raw(json_client.get(f"/gift_cards/{card['id']}"), "balance") in ("1.250", "1.25")
    entry = json_client.post(f"/gift_cards/{card['id']}/redeem", {"product_id": "p-1"}).json
    shown = client.get(f"/transactions/{entry['id']}", headers={"Accept": accept}).text
    assert "1.125" in shown
    assert "0.125" in client.get(f"/products/{product['id']}", headers={"Accept": accept}).text
    response = json_client.post(f"/gift_cards/{card['id']}/reload", {"amount": "0.0005"}, status=422)
    assert "BHD" in response.text


def test_a_patch_of_a_yen_card_reads_amounts_in_yen(json_client):
    card, _ = world(json_client, "JPY", 1000, 300)
    assert json_client.patch(f"/gift_cards/{card['id']}", {"balance_max": 5000}).json["balance_max"] == 5000
    response = json_client.patch(f"/gift_cards/{card['id']}", {"balance_max": "5000.5"}, status=422)
    assert field_of(response) == "balance_max"
    assert logref(json_client.patch(f"/gift_cards/{card['id']}", {"balance_max": 999}, status=409)) \
        == "balance_max_below_balance"


def test_bulk_issuing_reads_and_shows_amounts_in_the_issuers_currency(json_client):
    shop = json_client.post("/issuers", {"name": "Shop", "currency_code": "JPY"}).json
    issued = json_client.post(f"/issuers/{shop['id']}/bulk_create", {"card_ids": ["b-1"], "balance": 500}).json
    assert issued["balance"] == 500
    [card] = json_client.get("/gift_cards?card_id=b-1").json
    assert (card["balance"], card["currency_code"]) == (500, "JPY")
    response = json_client.post(f"/issuers/{shop['id']}/generate_codes",
                                {"number_of_codes": 1, "length": 8, "balance": "0.5"}, status=422)
    assert field_of(response) == "balance" and "JPY" in response.text
