"""Building the world the money tests start from, through the API: an issuer,
its products, users and cards; and reading money back exactly.
"""
from __future__ import annotations

import datetime
import decimal
import json

KOHLS = {"name": "Kohls", "currency_code": "USD"}
DOG_BED = {"product_id": "kohls-dogbed-001", "name": "Deluxe Round Dog Bed", "price": "50.00",
           "eligible_issuer": "Kohls"}


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def exact(response, key: str) -> decimal.Decimal:
    """A money property of a JSON response, parsed as an exact decimal (never a float)."""
    return decimal.Decimal(str(json.loads(response.body, parse_float=decimal.Decimal)[key]))


def issuer(api, **fields) -> dict:
    return api.post("/issuers", {**KOHLS, **fields}).json


def product(api, **fields) -> dict:
    return api.post("/products", {**DOG_BED, **fields}).json


def user(api, user_id: str = "user006") -> dict:
    return api.post("/users", {"user_id": user_id}).json


def card(api, card_id: str = "kohls-gc-001", balance=100, **fields) -> dict:
    return api.post("/gift_cards", {"card_id": card_id, "issuer": "Kohls", "balance": balance,
                                    **fields}).json


def kohls_world(api, balance=100, **card_fields) -> tuple[dict, dict]:
    """The Kohls issuer, its dog bed (50.00) and one card; (card, product)."""
    issuer(api)
    return card(api, balance=balance, **card_fields), product(api)


def redeem(api, card_pk: int, status: int = 201, headers=None, **body):
    body.setdefault("product_id", DOG_BED["product_id"])
    return api.post(f"/gift_cards/{card_pk}/redeem", body, status=status, headers=headers)


def balance_of(api, card_pk: int) -> decimal.Decimal:
    return exact(api.get(f"/gift_cards/{card_pk}"), "balance")


def entries_of(api, card_pk: int, **filters) -> list[dict]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return api.get(f"/gift_cards/{card_pk}/transactions?limit=300&{query}").json


def logref(response) -> str:
    body = response.json
    entries = body["errors"] if "errors" in body else body["_embedded"]["fg:errors"]
    return entries[0]["logref"]


def field_of(response) -> str | None:
    body = response.json
    entries = body["errors"] if "errors" in body else body["_embedded"]["fg:errors"]
    return entries[0].get("field")
