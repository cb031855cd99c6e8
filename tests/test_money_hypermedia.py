"""The money URLs as a hypermedia client sees them: every one answers GET, HEAD
and OPTIONS well-formed in every media type, and errors come in the type asked for."""
from __future__ import annotations

import pytest

from hypermedia import HAL, HAL_XML, HTML, MEDIA_TYPES, PLAIN, SIREN, well_formed
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import kohls_world, redeem, user

URLS = [
    "/transactions", "/transactions/2", "/gift_cards/1/transactions", "/gift_cards/1/redeem",
    "/gift_cards/1/reload", "/transactions/2/refund", "/issuers/1/generate_codes", "/issuers/1/bulk_create",
    "/users/1/payment_options?product_id=kohls-dogbed-001", "/products/1/payment_options?user_id=user006",
    "/gift_cards/1?zoom=transactions", "/users/1/gift_cards?zoom=transactions",
]


@pytest.fixture
def money(json_client):
    owner = user(json_client)
    created, _ = kohls_world(json_client, user_id=owner["user_id"])
    redeem(json_client, created["id"], amount=5)


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
@pytest.mark.parametrize("url", URLS)
def test_every_money_url_answers_well_formed(client, money, url, media_type):
    response = client.get(url, headers={"Accept": media_type})
    assert response.content_type == media_type and response.headers["ETag"]
    well_formed(response)
    head = client.head(url, headers={"Accept": media_type})
    assert head.body == b"" and head.headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize("url", URLS)
def test_options_lists_the_methods(client, money, url):
    response = client.options(url, headers={"Accept": PLAIN})
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("media_type", [HAL, HAL_XML, SIREN, HTML])
def test_money_writes_answer_in_every_media_type(client, money, media_type):
    response = client.post_json("/gift_cards/1/redeem", {"product_id": "kohls-dogbed-001", "amount": 1},
                                headers={"Accept": media_type}, status=201)
    well_formed(response)
    issued = client.post_json("/issuers/1/bulk_create", {"card_ids": [f"x-{media_type}"]},
                              headers={"Accept": media_type}, status=201)
    well_formed(issued)


@pytest.mark.parametrize("media_type", [HAL, HAL_XML, SIREN, PLAIN, HTML])
def test_a_refusal_comes_in_the_media_type_asked_for(client, money, media_type):
    response = client.post_json("/gift_cards/1/redeem", {"product_id": "kohls-dogbed-001", "amount": 1000},
                                headers={"Accept": media_type}, status=409)
    assert response.content_type == media_type
    well_formed(response)
    assert b"insufficient_balance" in response.body
