"""Both Flexigift tutorials, replayed request by request, with the responses they show.

Seed 000 starts from existing data (user 5 = user005, card 8 = gap-gc-005):
``flexigift demo-data`` loads exactly that world. Seed 001 is replayed on top.
"""
from __future__ import annotations

import pytest
import webtest

from auth_support import auth_app, close, make_token
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.demo import load_demo_data

HOST = "localhost:3000"


@pytest.fixture(params=["auth off", "auth on"])
def app(request, database_url):
    """Each tutorial as written against ``flexigift serve`` (auth off), and with
    authentication on, every request carrying an admin token."""
    if request.param == "auth off":
        application = create_app(Config(database_url=database_url, auth=False))
        application.config["TEST_ENVIRON"] = {"HTTP_HOST": HOST}
    else:
        application = auth_app(database_url)
        application.config["TEST_ENVIRON"] = {
            "HTTP_HOST": HOST, "HTTP_AUTHORIZATION": f"Bearer {make_token(application, 'admin')}"}
    yield application
    close(application)


@pytest.fixture
def client(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ=app.config["TEST_ENVIRON"])


def contains(response_json: dict, shown: dict) -> None:
    """The response has every property the tutorial shows, with the value it shows."""
    for key, value in shown.items():
        assert key in response_json, f"missing {key!r} in {response_json}"
        assert response_json[key] == value, f"{key}: {response_json[key]!r} != {value!r}"


def test_linking_tutorial_as_written(app, json_client):
    with app.app_context():
        load_demo_data()
    users = json_client.get("/users/").json
    assert [user["user_id"] for user in users][4] == "user005"
    assert all({"id", "user_id"} <= set(user) for user in users)
    cards = json_client.client.get("/gift_cards").json  # curl's default Accept: */*
    assert any(card["card_id"] == "gap-gc-005" for card in cards["_embedded"]["fg:gift_cards"])

    response = json_client.put("/users/5", {
        "user_id": "user005", "amazon_id": "amz9876", "name": "Steve Stevens",
        "email": "steve.stevens@example.com", "gift_cards": ["gap-gc-005"],
    })
    contains(response.json, {
        "user_id": "user005", "amazon_id": "amz9876", "name": "Steve Stevens",
        "email": "steve.stevens@example.com", "gift_cards": ["gap-gc-005"], "id": 5,
    })
    response = json_client.put("/gift_cards/8", {
        "card_id": "gap-gc-005", "user_id": "user005", "issuer": "Hanes",
        "balance": 200, "expiry_date": "2026-12-31",
    })
    contains(response.json, {
        "card_id": "gap-gc-005", "user_id": "user005", "issuer": "Hanes",
        "balance": 200, "expiry_date": "2026-12-31", "id": 8,
    })
    assert '"balance":200,' in response.text


QUICK_START_USER_WITH_TRAILING_COMMA = b''' {
"user_id": "user006",
"amazon_id": "amz3456",
"name": "Jack Johnson",
"email": "jack.johnson@example.com",
}'''


def test_quick_start_tutorial_as_written(app, json_client):
    with app.app_context():
        load_demo_data()
    # The tutorial's first body has a trailing comma: a 400 saying exactly where.
    bad = json_client.raw("POST", "/users", QUICK_START_USER_WITH_TRAILING_COMMA)
    assert bad.status_int == 400
    message = bad.json["errors"][0]["message"]
    assert "trailing comma" in message and "line 5, column 36" in message

    user = {"user_id": "user006", "amazon_id": "amz3456", "name": "Jack Johnson",
            "email": "jack.johnson@example.com"}
    created = json_client.post("/users", user)
    contains(created.json, user)
    user_id = created.json["id"]
    assert user_id == 6
    assert created.headers["Location"].endswith(f"/users/{user_id}")

    card = {"card_id": "kohls-gc-001", "user_id": "user006", "issuer": "Kohls",
            "balance": 250, "expiry_date": "2025-12-31"}
    created_card = json_client.post("/gift_cards", card)
    contains(created_card.json, card)

    linked = json_client.put(f"/users/{user_id}", {**user, "gift_cards": ["kohls-gc-001"]})
    contains(linked.json, {**user, "gift_cards": ["kohls-gc-001"], "id": user_id})

    product = {"product_id": "kohls-dogbed-001", "name": "Deluxe Round Dog Bed",
               "price": "50.00", "eligible_issuer": "Kohls"}
    created_product = json_client.post("/products", product)
    contains(created_product.json, {**product, "id": 5})


def test_tutorial_responses_as_hal_for_curl_default_accept(app, client):
    with app.app_context():
        load_demo_data()
    response = client.put_json("/users/5", {
        "user_id": "user005", "amazon_id": "amz9876", "name": "Steve Stevens",
        "email": "steve.stevens@example.com", "gift_cards": ["gap-gc-005"],
    }, headers={"Accept": "*/*"})
    assert response.content_type == "application/hal+json"
    assert response.json["_links"]["self"]["href"] == "http://localhost:3000/users/5"
    contains(response.json, {"user_id": "user005", "gift_cards": ["gap-gc-005"], "id": 5})
