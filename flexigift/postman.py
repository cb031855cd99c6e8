"""A Postman Collection (format v2.1) of the Flexigift API: a folder per resource,
in the order the tutorials go (an issuer's programme, a user, a product, a gift
card linked to the user, the payment options, a redemption and its refund),
each request with the tutorials' example body, ``baseUrl`` and ``token``
variables and bearer authentication. Each request checks its answer and keeps
the ids the next ones need, so the collection runs green from top to bottom
(Postman's runner, newman) against any Flexigift: the names it creates carry a
suffix drawn once per run, so they never collide with data already there.
"""
from __future__ import annotations

import json
from typing import Any

import flexigift

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
JSON = "application/json"

#: Drawn once per run, before the first request: what makes the run's names unique.
RUN_SUFFIX = [
    "if (!pm.collectionVariables.get('run')) {",
    "    pm.collectionVariables.set('run', Date.now().toString(36));",
    "}",
]


def _url(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    segments = [segment for segment in path.strip("/").split("/") if segment]
    url: dict[str, Any] = {"raw": "{{baseUrl}}/" + "/".join(segments), "host": ["{{baseUrl}}"],
                           "path": segments}
    if query:
        url["raw"] += "?" + "&".join(f"{key}={value}" for key, value in query.items())
        url["query"] = [{"key": key, "value": value} for key, value in query.items()]
    return url


def _tests(status: int, keep: dict[str, str] | None = None, checks: list[str] | None = None) -> list:
    lines = [f"pm.test('answers {status}', function () {{ pm.response.to.have.status({status}); }});"]
    for variable, expression in (keep or {}).items():
        lines.append(f"pm.collectionVariables.set('{variable}', {expression});")
    lines += checks or []
    return [{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]


def request(name: str, method: str, path: str, *, body: dict[str, Any] | None = None,
            query: dict[str, str] | None = None, status: int = 200, keep: dict[str, str] | None = None,
            checks: list[str] | None = None, description: str = "") -> dict[str, Any]:
    """One request item, with the test that checks its answer."""
    headers = [{"key": "Accept", "value": JSON}]
    item: dict[str, Any] = {"name": name, "event": _tests(status, keep, checks),
                            "request": {"method": method, "header": headers, "url": _url(path, query),
                                        "description": description}}
    if body is not None:
        headers.append({"key": "Content-Type", "value": JSON})
        item["request"]["body"] = {"mode": "raw", "raw": json.dumps(body, indent=2),
                                   "options": {"raw": {"language": "json"}}}
    return item


def folder(name: str, description: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": description, "item": list(items)}


def postman_collection(base_url: str = "http://localhost:3000") -> dict[str, Any]:
    """The collection, with ``baseUrl`` set to ``base_url``."""
    items = [
        folder("Issuers", "Card programmes: an issuer's name, currency and rules.",
               request("Create an issuer", "POST", "/issuers", status=201,
                       body={"name": "Gap-{{run}}", "currency_code": "USD"},
                       keep={"issuerId": "pm.response.json().id", "issuer": "pm.response.json().name"},
                       description="Register a card programme."),
               request("List issuers", "GET", "/issuers", query={"limit": "5"}),
               request("Read the issuer", "GET", "/issuers/{{issuerId}}")),
        folder("Users", "Shoppers, as the quick-start tutorial registers them.",
               request("Register a user", "POST", "/users", status=201,
                       body={"user_id": "user006-{{run}}", "amazon_id": "amz3456", "name": "Jack Johnson",
                             "email": "jack.johnson@example.com"},
                       keep={"userId": "pm.response.json().id", "userName": "pm.response.json().user_id"}),
               request("List users", "GET", "/users", query={"limit": "5"}),
               request("Read the user", "GET", "/users/{{userId}}"),
               request("Change the user's email", "PATCH", "/users/{{userId}}",
                       body={"email": "jack@example.com"},
                       checks=["pm.test('email changed', function () { "
                               "pm.expect(pm.response.json().email).to.eql('jack@example.com'); });"])),
        folder("Products", "What a checkout sells, and which issuer's cards can pay for it.",
               request("Create a product", "POST", "/products", status=201,
                       body={"product_id": "gap-jeans-{{run}}", "name": "Slim Fit Jeans", "price": "39.95",
                             "eligible_issuer": "{{issuer}}"},
                       keep={"productId": "pm.response.json().id", "productCode": "pm.response.json().product_id"}),
               request("List products", "GET", "/products", query={"limit": "5"})),
        folder("Gift cards", "Cards issued by an issuer, linked to users, spent at the checkout.",
               request("Issue a gift card to the user", "POST", "/gift_cards", status=201,
                       body={"card_id": "gap-gc-{{run}}", "issuer": "{{issuer}}", "balance": 50,
                             "user_id": "{{userName}}"},
                       keep={"cardId": "pm.response.json().id", "cardCode": "pm.response.json().card_id"}),
               request("Find cards by a prefix of their code", "GET", "/gift_cards",
                       query={"card_id": "gap-gc-*", "limit": "5"}),
               request("Read the card", "GET", "/gift_cards/{{cardId}}"),
               request("The user's cards", "GET", "/users/{{userId}}/gift_cards"),
               request("Find the card by its code (checkout)", "POST", "/card_lookup",
                       body={"card_id": "{{cardCode}}"}),
               request("Which of the user's cards can pay for the product", "GET",
                       "/users/{{userId}}/payment_options", query={"product_id": "{{productCode}}"},
                       checks=["pm.test('the card can pay', function () { "
                               "pm.expect(JSON.stringify(pm.response.json())).to.include("
                               "pm.collectionVariables.get('cardCode')); });"])),
        folder("Ledger", "Redemptions, refunds and reloads: every move of money on a card.",
               request("Redeem the product's price", "POST", "/gift_cards/{{cardId}}/redeem", status=201,
                       body={"product_id": "{{productCode}}", "order_reference": "order-{{run}}"},
                       keep={"redemptionId": "pm.response.json().id"}),
               request("Refund the redemption", "POST", "/transactions/{{redemptionId}}/refund", status=201,
                       body={"amount": "10.00"}),
               request("Reload the card", "POST", "/gift_cards/{{cardId}}/reload", status=201,
                       body={"amount": "5.00"}),
               request("The card's ledger", "GET", "/gift_cards/{{cardId}}/transactions"),
               request("The card's balance after it all", "GET", "/gift_cards/{{cardId}}",
                       checks=["pm.test('balance is 50 - 39.95 + 10 + 5', function () { "
                               "pm.expect(Number(pm.response.json().balance)).to.eql(25.05); });"])),
        folder("Discovery", "The API from its root: links, relations, descriptions.",
               request("API home", "GET", "/"),
               request("Link relations", "GET", "/rels"),
               request("Changes (audit trail)", "GET", "/changes", query={"limit": "5"}),
               request("OpenAPI document", "GET", "/openapi.json")),
    ]
    return {
        "info": {"name": "Flexigift API", "schema": SCHEMA, "version": flexigift.__version__,
                 "description": "The tutorials' flow against a Flexigift server. Set baseUrl and token "
                                "(from `flexigift token create`; empty for a development server)."},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "event": [{"listen": "prerequest", "script": {"type": "text/javascript", "exec": RUN_SUFFIX}}],
        "variable": [{"key": "baseUrl", "value": base_url, "type": "string"},
                     {"key": "token", "value": "", "type": "string"}],
        "item": items,
    }
