"""Tokens and a small world for the security tests: an app with authentication on
(a fresh database per test, each backend), a token per role, and clients that
send them.

The world: issuer Kohls with card ``kohls-gc-001`` (linked to user005, 500.00),
card ``kohls-gc-777`` (linked to no one, 80.00) and product ``kohls-towel``
(25.00); issuer Gap with card ``gap-gc-001`` (no one's, 60.00) and product
``gap-jeans`` (40.00); one redemption of 10.00 from kohls-gc-001.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import peewee
import pytest
import webtest

from flexigift.app import create_app
from flexigift.auth import tokens
from flexigift.auth.roles import Role
from flexigift.config import Config, Limit

PLAIN = "application/json"
HAL = "application/hal+json"
ROLES = ("admin", "issuer:Kohls", "checkout", "readonly")
HOST = "localhost:3000"


@dataclass
class World:
    """The rows every security test starts from (ids as the API shows them)."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def make_token(app, role: str, name: str | None = None) -> str:
    """A new token of ``role`` (made the way ``flexigift token create`` makes them)."""
    with app.app_context(), app.extensions["flexigift_db"].connection_context():
        _, secret = tokens.create(name or role, Role.parse(role))
    return secret


def revoke_token(app, name: str) -> None:
    with app.app_context(), app.extensions["flexigift_db"].connection_context():
        tokens.revoke(name)


def auth_app(database_url: str, **settings) -> Any:
    settings.setdefault("lookup_failures", Limit(100_000, 600))
    settings.setdefault("auth_failures", Limit(100_000, 600))
    return create_app(Config(database_url=database_url, auth=True, **settings))


def close(app) -> None:
    db = app.extensions["flexigift_db"]
    if isinstance(db, peewee.Database) and hasattr(db, "close_all"):
        db.close_all()


class TokenClient:
    """Speaks to the app with one token (or none), asking for plain JSON unless told."""

    def __init__(self, app, secret: str | None, accept: str = PLAIN):
        self.test = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
        self.secret = secret
        self.accept = accept

    def headers(self, extra: dict[str, str] | None = None, accept: str | None = None) -> dict[str, str]:
        headers = {"Accept": accept or self.accept, "Host": HOST}
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        headers.update(extra or {})
        return headers

    def request(self, method: str, url: str, body: dict | None = None, *, status="*",
                accept: str | None = None, headers: dict[str, str] | None = None):
        self.test.reset()  # no cookies: a token client is not a browser
        data = b"" if body is None else json.dumps(body).encode()
        extra = {"Content-Type": "application/json"} if body is not None else {}
        extra.update(headers or {})
        return self.test.request(url, method=method, body=data, headers=self.headers(extra, accept),
                                 status=status, expect_errors=True)

    def get(self, url: str, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url: str, body: dict | None = None, **kwargs):
        return self.request("POST", url, body if body is not None else {}, **kwargs)

    def patch(self, url: str, body: dict, **kwargs):
        return self.request("PATCH", url, body, **kwargs)


def build_world(admin: TokenClient) -> World:
    """The world above, made through the API by an admin."""
    world = World()

    def post(url: str, body: dict) -> dict:
        response = admin.post(url, body, status=201)
        return response.json

    world.ids["user"] = post("/users", {"user_id": "user005", "name": "Steve Stevens"})["id"]
    world.ids["other_user"] = post("/users", {"user_id": "user006"})["id"]
    world.ids["kohls"] = post("/issuers", {"name": "Kohls"})["id"]
    world.ids["gap"] = post("/issuers", {"name": "Gap"})["id"]
    world.ids["kohls_card"] = post("/gift_cards", {"card_id": "kohls-gc-001", "issuer": "Kohls",
                                                   "balance": 500, "user_id": "user005"})["id"]
    world.ids["loose_card"] = post("/gift_cards", {"card_id": "kohls-gc-777", "issuer": "Kohls",
                                                   "balance": 80})["id"]
    world.ids["gap_card"] = post("/gift_cards", {"card_id": "gap-gc-001", "issuer": "Gap",
                                                 "balance": 60})["id"]
    world.ids["kohls_product"] = post("/products", {"product_id": "kohls-towel", "name": "Towel",
                                                    "price": "25.00", "eligible_issuer": "Kohls"})["id"]
    world.ids["gap_product"] = post("/products", {"product_id": "gap-jeans", "name": "Jeans",
                                                  "price": "40.00", "eligible_issuer": "Gap"})["id"]
    world.ids["redemption"] = post(f"/gift_cards/{world['kohls_card']}/redeem",
                                   {"product_id": "kohls-towel", "amount": "10.00"})["id"]
    world.ids["hold"] = post(f"/gift_cards/{world['kohls_card']}/authorize", {"amount": "20.00"})["id"]
    world.ids["order"] = post("/orders", {"order_reference": "o-1", "amount": "30.00", "currency_code": "USD",
                                          "mode": "authorize",
                                          "payments": [{"card_id": world["kohls_card"]}]})["id"]
    return world


@pytest.fixture
def secured(database_url):
    """An app with authentication on, its world, and a client per role (plus none)."""
    app = auth_app(database_url, webhooks_allow_private=True)
    secrets = {role: make_token(app, role) for role in ROLES}
    clients = {role: TokenClient(app, secret) for role, secret in secrets.items()}
    clients["none"] = TokenClient(app, None)
    world = build_world(clients["admin"])
    yield app, world, clients, secrets
    close(app)
