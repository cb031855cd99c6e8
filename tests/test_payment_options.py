"""Payment options (SPEC 4.4): which of a user's cards can pay for a product, how
much each covers, and why the others cannot; reached from the user and the product."""
from __future__ import annotations

import datetime

import pytest

from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, field_of, issuer, product, redeem, user, utc_today

HAL = "application/hal+json"


@pytest.fixture
def shopper(json_client) -> dict:
    """user006 with one card of every kind, and the Kohls dog bed (50.00) to buy."""
    owner = user(json_client)
    issuer(json_client, product_code_restrictions="kohls-*")
    issuer(json_client, name="Gap")
    bed = product(json_client)
    yesterday = (utc_today() - datetime.timedelta(days=1)).isoformat()
    cards = {
        "rich": dict(balance=80),
        "poor": dict(balance="12.50", expiry_date=utc_today().isoformat()),
        "gap": dict(balance=80, issuer="Gap"),
        "old": dict(balance=80, expiry_date=yesterday),
        "off": dict(balance=80, status="disabled"),
        "empty": dict(balance=0),
        "euro": dict(balance=80, currency_code="EUR"),
        "spent": dict(balance=60, single_use=True),
    }
    ids = {card_id: card(json_client, card_id, user_id=owner["user_id"], **fields)["id"]
           for card_id, fields in cards.items()}
    redeem(json_client, ids["spent"], amount=10)  # single use: now redeemed
    card(json_client, "someone-elses", balance=500)
    return {"user": owner, "product": bed}


def options_from_user(api, shopper):
    return api.get(f"/users/{shopper['user']['id']}/payment_options?product_id=kohls-dogbed-001")


def test_the_usable_cards_and_what_each_can_cover(json_client, shopper):
    options = options_from_user(json_client, shopper).json
    assert [(item["card_id"], item["amount"]) for item in options["payment_options"]] == [("rich", 50), ("poor", 12.5)]
    assert options["price"] == "50.00" and options["usable_cards"] == 2 and options["total_available"] == 62.5


def test_the_unusable_cards_and_why(json_client, shopper):
    options = options_from_user(json_client, shopper).json
    reasons = {item["card_id"]: item["reasons"] for item in options["unusable_cards"]}
    assert reasons == {"gap": ["wrong_issuer"], "old": ["expired"], "off": ["disabled"], "empty": ["empty"],
                       "euro": ["currency"], "spent": ["redeemed"]}


def test_a_restricted_product_is_named_as_the_reason(json_client, shopper):
    product(json_client, product_id="gap-jeans", eligible_issuer="Kohls")
    options = json_client.get(f"/users/{shopper['user']['id']}/payment_options?product_id=gap-jeans").json
    assert options["payment_options"] == []
    assert {item["card_id"]: item["reasons"] for item in options["unusable_cards"]}["rich"] == ["restricted_product"]


def test_the_product_side_gives_the_same_answer(json_client, shopper):
    from_user = options_from_user(json_client, shopper).json
    from_product = json_client.get(f"/products/{shopper['product']['id']}/payment_options?user_id=user006").json
    assert from_product == from_user


def test_user_and_product_link_their_payment_options_as_templates(client, shopper):
    user_links = client.get(f"/users/{shopper['user']['id']}").json["_links"]
    link = user_links["fg:payment_options"]
    assert link["templated"] is True
    assert link["href"] == f"http://localhost:3000/users/{shopper['user']['id']}/payment_options{{?product_id}}"
    product_link = client.get(f"/products/{shopper['product']['id']}").json["_links"]["fg:payment_options"]
    assert product_link["href"].endswith(f"/products/{shopper['product']['id']}/payment_options{{?user_id}}")
    expanded = link["href"].replace("{?product_id}", "?product_id=kohls-dogbed-001")
    document = client.get(expanded).json
    options = document["_embedded"]["fg:payment_options"]
    assert options[0]["_links"]["fg:redeem"]["href"].endswith("/redeem")
    assert document["_links"]["self"]["href"] == expanded


def test_a_usable_option_really_can_pay(json_client, shopper):
    options = options_from_user(json_client, shopper).json["payment_options"]
    for option in options:
        card_pk = json_client.get(f"/gift_cards?card_id={option['card_id']}").json[0]["id"]
        redeem(json_client, card_pk, amount=option["amount"])


@pytest.mark.parametrize("url, status, field", [
    ("/users/1/payment_options", 400, "product_id"),
    ("/users/1/payment_options?product_id=", 400, "product_id"),
    ("/users/1/payment_options?product_id=nothing", 404, "product_id"),
    ("/users/999/payment_options?product_id=kohls-dogbed-001", 404, "id"),
    ("/users/99999999999/payment_options?product_id=kohls-dogbed-001", 404, "id"),
    ("/products/1/payment_options", 400, "user_id"),
    ("/products/1/payment_options?user_id=nobody", 404, "user_id"),
    ("/products/999/payment_options?user_id=user006", 404, "id"),
    ("/users/1/payment_options?product_id=a%00b", 400, "product_id"),
    ("/products/1/payment_options?user_id=%00", 400, "user_id"),
])
def test_a_missing_or_unknown_parameter_is_named(json_client, shopper, url, status, field):
    assert field_of(json_client.get(url, status=status)) == field


def test_a_user_without_cards_has_no_options(json_client, shopper):
    other = user(json_client, "user007")
    options = json_client.get(f"/users/{other['id']}/payment_options?product_id=kohls-dogbed-001").json
    assert options["payment_options"] == options["unusable_cards"] == [] and options["total_available"] == 0
