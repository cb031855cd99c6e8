"""OPTIONS answers for URLs that exist (issue 11): on a row that does not exist, or
that the token may not see, it is a 404 in the negotiated format, as GET would be."""
from __future__ import annotations

import pytest
import webtest

from auth_support import auth_app, close, make_token
from money_helpers import kohls_world

MISSING = ["/gift_cards/999999", "/gift_cards/999999/redeem", "/gift_cards/999999/holds", "/holds/7/capture",
           "/orders/7/refund", "/users/7/gift_cards", "/events/999", "/webhooks/7/deliveries",
           "/transactions/999/refund", "/issuers/999/products", "/products/999/payment_options",
           "/nowhere", "/gift_cards/0"]


@pytest.mark.parametrize("url", MISSING)
@pytest.mark.parametrize("accept", ["application/json", "application/vnd.siren+json", "application/hal+xml"])
def test_options_on_what_does_not_exist_is_404(client, url, accept):
    response = client.options(url, headers={"Accept": accept}, status=404)
    assert "Allow" not in response.headers
    assert response.content_type == accept


def test_options_on_what_exists_lists_its_methods(json_client):
    card, product = kohls_world(json_client)
    for url in (f"/gift_cards/{card['id']}", f"/gift_cards/{card['id']}/redeem", f"/products/{product['id']}",
                "/gift_cards", "/"):
        response = json_client.client.options(url, headers={"Accept": "application/json"})
        assert "OPTIONS" in response.headers["Allow"] and "GET" in response.headers["Allow"]


def test_options_on_a_row_the_token_may_not_see_is_404(database_url):
    app = auth_app(database_url)
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        admin = {"Authorization": f"Bearer {make_token(app, 'admin')}", "Accept": "application/json"}
        client.post_json("/issuers", {"name": "Gap", "currency_code": "USD"}, headers=admin)
        card = client.post_json("/gift_cards", {"card_id": "gap-1", "issuer": "Gap", "balance": 5},
                                headers=admin).json
        client.post_json("/issuers", {"name": "Kohls", "currency_code": "USD"}, headers=admin)
        kohls = {"Authorization": f"Bearer {make_token(app, 'issuer:Kohls')}", "Accept": "application/json"}
        client.get(f"/gift_cards/{card['id']}", headers=kohls, status=404)
        client.options(f"/gift_cards/{card['id']}", headers=kohls, status=404)
        gap = {"Authorization": f"Bearer {make_token(app, 'issuer:Gap')}", "Accept": "application/json"}
        assert "GET" in client.options(f"/gift_cards/{card['id']}", headers=gap).headers["Allow"]
    finally:
        close(app)
