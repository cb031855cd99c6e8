"""Every route × method × role (and no token, and a revoked token) answers as the
roles of SPEC 6 and issue 8 say, on SQLite and PostgreSQL.

The table below states, independently of the application's own rules, which
roles may use each route and method. The routes come from the application's
route table: a route the table does not mention fails the coverage test, so a
new route cannot be forgotten.
"""
from __future__ import annotations

import itertools

import pytest

from auth_support import ROLES, TokenClient, make_token, revoke_token, secured  # noqa: F401 (fixture)

A, I, C, R = ROLES
ALL = frozenset(ROLES)
PUBLIC = "public"  # no token needed


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


#: (route, method) → who may: a set of roles, or PUBLIC.
EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("home", "GET"): ALL,
    ("rels_index", "GET"): ALL,
    ("rel_page", "GET"): ALL,
    ("static", "GET"): PUBLIC,
    ("public_openapi", "GET"): PUBLIC,
    ("public_postman", "GET"): PUBLIC,
    ("sign_in", "GET"): PUBLIC,
    ("sign_in", "POST"): PUBLIC,
    ("sign_out", "POST"): ALL,
    ("card_lookup", "GET"): roles(A, C),
    ("card_lookup", "POST"): roles(A, C),
    ("users_collection", "GET"): roles(A, C, R),
    ("users_collection", "POST"): roles(A, C),
    ("users_item", "GET"): roles(A, C, R),
    ("users_item", "PUT"): roles(A, C),
    ("users_item", "PATCH"): roles(A, C),
    ("users_item", "DELETE"): roles(A, C),
    ("users_gift_cards", "GET"): roles(A, C, R),
    ("users_history", "GET"): roles(A, C, R),
    ("user_payment_options", "GET"): roles(A, C, R),
    ("gift_cards_collection", "GET"): roles(A, I, R),
    ("gift_cards_collection", "POST"): roles(A, I),
    ("gift_cards_item", "GET"): ALL,
    ("gift_cards_item", "PUT"): roles(A, I),
    ("gift_cards_item", "PATCH"): roles(A, I),
    ("gift_cards_item", "DELETE"): roles(A, I),
    ("gift_card_transactions", "GET"): ALL,
    ("gift_cards_history", "GET"): ALL,
    ("gift_card_redeem", "GET"): roles(A, C, R),
    ("gift_card_redeem", "POST"): roles(A, C),
    ("gift_card_reload", "GET"): roles(A, I, R),
    ("gift_card_reload", "POST"): roles(A, I),
    ("gift_card_adjust", "GET"): roles(A),
    ("gift_card_adjust", "POST"): roles(A),
    ("products_collection", "GET"): ALL,
    ("products_collection", "POST"): roles(A, I),
    ("products_item", "GET"): ALL,
    ("products_item", "PUT"): roles(A, I),
    ("products_item", "PATCH"): roles(A, I),
    ("products_item", "DELETE"): roles(A, I),
    ("products_history", "GET"): roles(A, I, R),
    ("product_payment_options", "GET"): roles(A, C, R),
    ("issuers_collection", "GET"): ALL,
    ("issuers_collection", "POST"): roles(A, I),
    ("issuers_item", "GET"): ALL,
    ("issuers_item", "PUT"): roles(A, I),
    ("issuers_item", "PATCH"): roles(A, I),
    ("issuers_item", "DELETE"): roles(A),
    ("issuers_gift_cards", "GET"): roles(A, I, R),
    ("issuers_products", "GET"): ALL,
    ("issuers_history", "GET"): roles(A, I, R),
    ("issuer_bulk_create", "GET"): roles(A, I, R),
    ("issuer_bulk_create", "POST"): roles(A, I),
    ("issuer_generate_codes", "GET"): roles(A, I, R),
    ("issuer_generate_codes", "POST"): roles(A, I),
    ("transactions_collection", "GET"): roles(A, I, R),
    ("transactions_item", "GET"): ALL,
    ("transaction_refund", "GET"): roles(A, C, R),
    ("transaction_refund", "POST"): roles(A, C),
    ("holds_collection", "GET"): roles(A, C, R),
    ("holds_item", "GET"): ALL,
    ("gift_card_holds", "GET"): ALL,
    ("gift_card_authorize", "GET"): roles(A, C, R),
    ("gift_card_authorize", "POST"): roles(A, C),
    ("hold_capture", "GET"): roles(A, C, R),
    ("hold_capture", "POST"): roles(A, C),
    ("hold_void", "GET"): roles(A, C, R),
    ("hold_void", "POST"): roles(A, C),
    ("orders_collection", "GET"): roles(A, C, R),
    ("orders_collection", "POST"): roles(A, C),
    ("orders_item", "GET"): roles(A, C, R),
    ("order_capture", "GET"): roles(A, C, R),
    ("order_capture", "POST"): roles(A, C),
    ("order_void", "GET"): roles(A, C, R),
    ("order_void", "POST"): roles(A, C),
    ("order_refund", "GET"): roles(A, C, R),
    ("order_refund", "POST"): roles(A, C),
    ("changes_collection", "GET"): roles(A, R),
    ("changes_item", "GET"): ALL,
    ("events_collection", "GET"): roles(A, I),
    ("events_item", "GET"): roles(A, I),
    ("webhooks_collection", "GET"): roles(A, I),
    ("webhooks_collection", "POST"): roles(A, I),
    ("webhooks_item", "GET"): roles(A, I),
    ("webhooks_item", "PUT"): roles(A, I),
    ("webhooks_item", "PATCH"): roles(A, I),
    ("webhooks_item", "DELETE"): roles(A, I),
    ("webhooks_deliveries", "GET"): roles(A, I),
    ("deliveries_item", "GET"): roles(A, I),
    ("delivery_redeliver", "GET"): roles(A, I),
    ("delivery_redeliver", "POST"): roles(A, I),
}
HOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["card.*"], "secret": "sixteen-characters-at-least"}

#: Which row of the world a route's ``id`` names (one every allowed role can see).
TARGETS = {"users": "user", "gift_cards": "kohls_card", "products": "kohls_product",
           "issuers": "kohls", "transactions": "redemption", "holds": "hold", "orders": "order"}


def routed(app) -> dict[tuple[str, str], str]:
    """(route, method) → one URL rule of it, for every route of the app (HEAD, OPTIONS aside)."""
    found: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.setdefault((rule.endpoint, method), rule.rule.rstrip("/") or "/")
    return found


def test_the_table_covers_every_route_and_method(secured):  # noqa: F811
    app, *_ = secured
    assert set(routed(app)) == set(EXPECTED), (
        "routes without an expectation: " f"{sorted(set(routed(app)) - set(EXPECTED))}; "
        f"expectations without a route: {sorted(set(EXPECTED) - set(routed(app)))}")


class Cell:
    """One route and method, tried by every principal."""

    counter = itertools.count()

    def __init__(self, app, world, admin: TokenClient, route: str, method: str, rule: str):
        self.app, self.world, self.admin = app, world, admin
        self.route, self.method, self.rule = route, method, rule

    def url(self, role: str) -> str:
        url = self.rule.replace("<name>", "users").replace("<path:filename>", "flexigift.css")
        url += {"user_payment_options": "?product_id=kohls-towel",
                "product_payment_options": "?user_id=user005"}.get(self.route, "")
        if "<int:id>" not in url:
            return url
        if self.route == "changes_item":
            return url.replace("<int:id>", str(self._change_of_the_kohls_card()))
        if url.split("/")[1] in ("webhooks", "deliveries") and self.method != "DELETE":
            webhook, delivery = self._kohls_webhook()
            return url.replace("<int:id>", str(webhook if url.startswith("/webhooks") else delivery))
        if self.route == "events_item":
            return url.replace("<int:id>", str(self._event_of_the_kohls_card()))
        if self.method == "DELETE":
            return url.replace("<int:id>", str(self._doomed(url.split("/")[1])))
        return url.replace("<int:id>", str(self.world[TARGETS[url.split("/")[1]]]))

    def _change_of_the_kohls_card(self) -> int:
        history = self.admin.get(f"/gift_cards/{self.world['kohls_card']}/history", status=200).json
        return history[0]["id"]

    def _kohls_webhook(self) -> tuple[int, int]:
        """A subscription of Kohls' (which its issuer token manages) and one delivery of it."""
        from flexigift.models import Delivery, Event, Webhook
        with self.app.app_context(), self.app.extensions["flexigift_db"].connection_context():
            webhook = Webhook.create(url=HOOK["url"], event_types='["card.*"]', secret=HOOK["secret"],
                                     issuer_id=self.world["kohls"])
            event = Event.select().where(Event.issuer_id == self.world["kohls"]).first()
            delivery = Delivery.create(webhook=webhook.id, event=event.id)
        return webhook.id, delivery.id

    def _event_of_the_kohls_card(self) -> int:
        found = self.admin.get(f"/events?resource=gift_card&resource_id={self.world['kohls_card']}",
                               status=200).json
        return found[0]["id"]

    def _doomed(self, collection: str) -> int:
        """A row made for one DELETE to remove (or refuse to, for its history)."""
        n = next(self.counter)
        body = {
            "users": {"user_id": f"doomed-{n}"},
            "gift_cards": {"card_id": f"doomed-{n}", "issuer": "Kohls", "balance": 1},
            "products": {"product_id": f"doomed-{n}", "name": "x", "price": "1.00", "eligible_issuer": "Kohls"},
            "issuers": {"name": f"Doomed {n}"},
            "webhooks": HOOK,
        }[collection]
        return self.admin.post(f"/{collection}", body, status=201).json["id"]

    def body(self, role: str) -> dict | None:
        n = next(self.counter)
        own = "Kohls"
        return {
            ("users_collection", "POST"): {"user_id": f"new-{n}"},
            ("users_item", "PUT"): {"user_id": "user005", "name": "Steve Stevens",
                                    "gift_cards": ["kohls-gc-001"]},
            ("users_item", "PATCH"): {"name": "Steve Stevens"},
            ("gift_cards_collection", "POST"): {"card_id": f"new-{n}", "issuer": own, "balance": 5},
            ("gift_cards_item", "PUT"): {"card_id": "kohls-gc-001", "issuer": own, "user_id": "user005"},
            ("gift_cards_item", "PATCH"): {"reference": f"ref {n}"},
            ("gift_card_redeem", "POST"): {"product_id": "kohls-towel", "amount": "0.01",
                                           "user_id": "user005"},
            ("gift_card_reload", "POST"): {"amount": "0.01"},
            ("gift_card_adjust", "POST"): {"amount": "0.01", "reason": "matrix"},
            ("card_lookup", "POST"): {"card_id": "kohls-gc-777"},
            ("products_collection", "POST"): {"product_id": f"p-{n}", "name": "x", "price": "1.00",
                                              "eligible_issuer": own},
            ("products_item", "PUT"): {"product_id": "kohls-towel", "name": "Towel", "price": "25.00",
                                       "eligible_issuer": own},
            ("products_item", "PATCH"): {"name": "Towel"},
            ("issuers_collection", "POST"): {"name": own if role == I else f"Issuer {n}"},
            ("issuers_item", "PUT"): {"name": own},
            ("issuers_item", "PATCH"): {"expires_after": "1y"},
            ("issuer_bulk_create", "POST"): {"card_ids": [f"bulk-{n}"], "balance": 1},
            ("issuer_generate_codes", "POST"): {"number_of_codes": 1, "length": 10, "prefix": f"G{n}"},
            ("transaction_refund", "POST"): {"amount": "0.01"},
            ("gift_card_authorize", "POST"): {"amount": "0.01", "user_id": "user005"},
            ("hold_capture", "POST"): {"amount": "0.01"},
            ("hold_void", "POST"): {},
            ("orders_collection", "POST"): {"order_reference": f"o-{n}", "amount": "0.01",
                                            "currency_code": "USD", "user_id": "user005",
                                            "payments": [{"card_id": self.world["kohls_card"]}]},
            ("order_capture", "POST"): {"amount": "0.01"},
            ("order_void", "POST"): {},
            ("order_refund", "POST"): {"amount": "0.01"},
            ("sign_in", "POST"): {"token": self.admin.secret},
            ("sign_out", "POST"): {},
            ("webhooks_collection", "POST"): HOOK,
            ("webhooks_item", "PUT"): HOOK,
            ("webhooks_item", "PATCH"): {"event_types": ["*"]},
            ("delivery_redeliver", "POST"): {},
        }.get((self.route, self.method))

    def expected_for(self, who: str) -> str:
        """``ok`` (neither 401 nor 403, and 200 for a GET), ``401`` or ``403``."""
        allowed = EXPECTED[(self.route, self.method)]
        if allowed == PUBLIC:
            return "ok"
        if who in ("none", "revoked"):
            return "401"
        return "ok" if who in allowed else "403"

    def problems(self, clients: dict[str, TokenClient]) -> list[str]:
        found = []
        for who, client in clients.items():
            url = self.url(who)
            response = client.request(self.method, url, self.body(who))
            expected = self.expected_for(who)
            status = response.status_int
            if expected == "ok":
                good = status not in (401, 403) and status < 500 and (self.method != "GET" or status == 200)
            else:
                good = status == int(expected)
            if not good:
                found.append(f"{self.method} {url} as {who}: {status}, expected {expected}: "
                             f"{response.text[:200]}")
            if expected == "401" and good and "WWW-Authenticate" not in response.headers:
                found.append(f"{self.method} {url} as {who}: 401 without WWW-Authenticate")
        return found


def test_every_route_method_and_role_answers_as_the_roles_say(secured):  # noqa: F811
    app, world, clients, _ = secured
    make_token(app, "admin", name="soon revoked")
    everyone = dict(clients)
    everyone["revoked"] = TokenClient(app, make_token(app, "readonly", name="revoked"))
    revoke_token(app, "revoked")
    problems = []
    for (route, method), rule in sorted(routed(app).items()):
        problems += Cell(app, world, clients[A], route, method, rule).problems(everyone)
    assert not problems, "\n".join(problems)


def test_options_lists_only_the_methods_a_role_may_use(secured):  # noqa: F811
    app, world, clients, _ = secured
    card = f"/gift_cards/{world['kohls_card']}"
    allowed = {who: set(clients[who].request("OPTIONS", card, status=200).headers["Allow"].split(", "))
               for who in ROLES}
    assert allowed[A] == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}
    assert allowed[I] == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}
    assert allowed[C] == allowed[R] == {"GET", "HEAD", "OPTIONS"}
    fields = clients[R].request("OPTIONS", card, status=200).json["fields"]
    assert fields == {}, "readonly is shown no write it could not use"
    clients["none"].request("OPTIONS", card, status=401)
    clients[C].request("OPTIONS", "/gift_cards", status=403)


def test_head_answers_as_get_does(secured):  # noqa: F811
    app, world, clients, _ = secured
    for who, url, status in [(R, "/users", 200), (I, "/users", 403), ("none", "/users", 401),
                             (C, f"/gift_cards/{world['gap_card']}", 404)]:
        response = clients[who].request("HEAD", url, status=status)
        assert response.body == b""
