"""A refusal names amounts in the card's currency (issue 12): "50 JPY", "0.050 BHD",
never yen or dinars written as if they had cents."""
from __future__ import annotations

import pytest

from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)


def shop(api, currency: str, balance: str, price: str) -> dict:
    api.post("/issuers", {"name": "Shop", "currency_code": currency})
    api.post("/products", {"product_id": "p-1", "name": "Thing", "price": price, "eligible_issuer": "Shop"})
    return api.post("/gift_cards", {"card_id": "shop-card-001", "issuer": "Shop", "balance": balance}).json


def message(response) -> str:
    return response.json["errors"][0]["message"]


@pytest.mark.parametrize("currency, balance, price, shown", [
    ("JPY", "50", "60", ("50 JPY", "60")), ("BHD", "0.05", "0.06", ("0.050 BHD", "0.060")),
    ("USD", "0.5", "0.6", ("0.50 USD", "0.60"))])
def test_refusals_name_amounts_in_the_cards_currency(json_client, currency, balance, price, shown):
    card = shop(json_client, currency, balance, price)
    for path in ("redeem", "authorize"):
        refused = json_client.post(f"/gift_cards/{card['id']}/{path}", {"product_id": "p-1"}, status=409)
        assert all(text in message(refused) for text in shown), message(refused)
    refused = json_client.post("/orders", {"order_reference": "o-1", "product_id": "p-1",
                                           "payments": [{"card_id": card["id"]}]}, status=409)
    assert shown[0] in message(refused) and shown[1] in message(refused), message(refused)
