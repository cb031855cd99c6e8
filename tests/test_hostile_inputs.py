"""Hostile input, by class, against every write the API takes and every collection
it serves, on both databases: malformed and truncated JSON at every position of
a valid body, bytes that are not UTF-8, repeated keys, numbers JSON cannot or
should not carry, money finer than cents, impossible dates, huge strings, deep
nesting, odd headers, repeated and empty query parameters, values at the edges
of their types. Each gets a 4xx in the negotiated media type that names the
problem, and nothing is written; whatever a write does accept, every later read
renders in every media type."""
from __future__ import annotations

import json

import pytest

from flexigift.demo import load_demo_data
from flexigift.registry import registry_of
from hypermedia import MEDIA_TYPES, well_formed

PLAIN = "application/json"
#: A valid body for each write (route path, method), from the demo data.
WRITES = {
    ("/users", "POST"): {"user_id": "hostile-user", "name": "Hostile", "email": "h@example.com"},
    ("/users/2", "PATCH"): {"name": "Grace", "email": "grace@example.com"},
    ("/gift_cards", "POST"): {"card_id": "hostile-card", "issuer": "Gap", "balance": "25.00",
                              "expiry_date": "2030-01-31", "metadata": {"batch": 7}},
    ("/gift_cards/8", "PATCH"): {"recipient_email": "r@example.com", "reference": "ref-1"},
    ("/products", "POST"): {"product_id": "hostile-socks", "name": "Socks", "price": "3.50",
                            "eligible_issuer": "Gap"},
    ("/issuers", "POST"): {"name": "Hostile Issuer", "currency_code": "USD", "expires_after": "1y"},
    ("/gift_cards/8/redeem", "POST"): {"amount": "1.00", "product_id": "gap-jeans-001"},
    ("/gift_cards/8/reload", "POST"): {"amount": "2.00"},
    ("/card_lookup", "POST"): {"card_id": "gap-gc-005"},
    ("/issuers/1/generate_codes", "POST"): {"length": 10, "number_of_codes": 3, "prefix": "hx-"},
}
#: Values no field should take without a clear answer: every one is sent in every field.
NASTY = [
    None, True, -1, 2**63, 10**400, 0.001, -0.0, 1e308, "1e309", "NaN", "", " ", "12.345", "-5",
    "2026-02-30", "9999-12-31", "1e999999999", "a\x00b", "\u2028<script>", "x" * 100_000, "ü" * 60,
    [], [None], {"nested": {"deeper": [1, 2, {"x": None}]}}, ["a"] * 1000,
]


def snapshot(client) -> tuple[str, str]:
    """What a refused request must leave as it was. Every write of a resource is in the
    audit trail (``/changes``) and every move of money in the ledger, so their sizes
    change with any write."""
    return tuple(client.get(f"/{name}?limit=1", headers={"Accept": PLAIN}).headers["X-Total-Count"]
                 for name in ("changes", "transactions"))


def send(client, path: str, method: str, body: bytes, headers: dict | None = None, accept: str = PLAIN):
    return client.request(path, method=method, body=body, expect_errors=True,
                          headers={"Content-Type": "application/json", "Accept": accept, **(headers or {})})


def assert_refused_clearly(response, accept: str = PLAIN) -> None:
    assert 400 <= response.status_int < 500, (response.status, response.text[:300])
    assert response.content_type == accept
    document = well_formed(response)
    if accept == PLAIN:
        assert document["errors"] and all(error["message"] for error in document["errors"])


@pytest.fixture
def demo(app, client):
    with app.app_context():
        load_demo_data()
    return app


@pytest.mark.parametrize(("path", "method"), list(WRITES), ids=lambda value: str(value))
def test_every_truncation_and_corruption_of_a_body_is_refused_and_writes_nothing(demo, client, path, method):
    body = json.dumps(WRITES[(path, method)]).encode()
    before = snapshot(client)
    for cut in range(1, len(body)):  # every proper prefix: never a complete object
        assert_refused_clearly(send(client, path, method, body[:cut]))
    for position in range(0, len(body), 3):  # a byte that is not UTF-8, anywhere
        assert_refused_clearly(send(client, path, method, body[:position] + b"\xff" + body[position + 1:]))
    first_key = next(iter(WRITES[(path, method)]))
    repeated = body[:-1] + b', "' + first_key.encode() + b'": "again"}'
    response = send(client, path, method, repeated)
    assert_refused_clearly(response)
    assert first_key in response.text
    for text in (b"[", b"{" * 10_000 + b"}" * 10_000, b"[" * 10_000 + b"]" * 10_000, b"null", b"[1, 2]", b'"text"',
                 body.replace(b"}", b', "x": NaN}'), body.replace(b"}", b', "x": -Infinity}')):
        assert_refused_clearly(send(client, path, method, text))
    assert snapshot(client) == before


@pytest.mark.parametrize(("path", "method"), list(WRITES), ids=lambda value: str(value))
def test_a_nasty_value_in_any_field_is_refused_or_read_back_in_every_media_type(demo, client, path, method):
    valid = WRITES[(path, method)]
    schema = registry_of(demo).writes[_route(demo, path, method)][method]
    names = [name for name, field in schema.fields.items() if not field.dump_only]
    before = snapshot(client)
    for number, name in enumerate(names):
        for nasty in NASTY:
            body = {**valid, name: nasty}
            if name in ("user_id", "card_id", "product_id", "name") and method == "POST" and isinstance(nasty, str):
                body[name] = f"{nasty}-{number}"[:100_000]  # a fresh key, so a create is not just a 409
            response = send(client, path, method, json.dumps(body).encode(), {"Idempotency-Key": f"k{number}{id(nasty)}"})
            assert response.status_int < 500, (name, repr(nasty)[:80], response.text[:300])
            if response.status_int >= 400:
                assert_refused_clearly(response)
                assert snapshot(client) == before, (name, repr(nasty)[:80])
                continue
            before = snapshot(client)
            # Accepted: whatever it wrote, every read of it works in every media type.
            location = response.headers.get("Location") or path
            for media_type in MEDIA_TYPES:
                shown = client.get(_local(location), headers={"Accept": media_type})
                assert shown.status_int == 200
                well_formed(shown)
    # ...and so does every page that shows what was accepted, with its relations embedded.
    for media_type in MEDIA_TYPES:
        listing = client.get(_collection(path) + "?limit=300&zoom=" + _zoom(path),
                             headers={"Accept": media_type}, expect_errors=True)
        assert listing.status_int == 200, listing.text[:300]
        well_formed(listing)


def _route(app, path: str, method: str) -> str:
    adapter = app.url_map.bind("localhost")
    return adapter.match(path, method=method)[0]


def _local(href: str) -> str:
    return "/" + href.split("://", 1)[-1].split("/", 1)[-1] if "://" in href else href


def _collection(path: str) -> str:
    return "/" + path.strip("/").split("/")[0]


def _zoom(path: str) -> str:
    return {"users": "gift_cards", "gift_cards": "user,issuer", "products": "issuer",
            "issuers": "products", "card_lookup": ""}.get(path.strip("/").split("/")[0], "")


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_odd_headers_get_a_clear_answer(demo, client, accept):
    before = snapshot(client)
    body = json.dumps({"name": "x"}).encode()
    for if_match in ('"unclosed', "W/", "*, garbage", '"a", "b"', "\x7f", "x" * 5000):
        response = client.request("/users/2", method="PATCH", body=body, expect_errors=True,
                                  headers={"Content-Type": PLAIN, "Accept": accept, "If-Match": if_match})
        assert response.status_int in (400, 412), (if_match, response.status)
        assert response.content_type == accept
    for key in ("", " ", "é", "x" * 300, "a\tb"):
        response = client.request("/gift_cards/8/reload", method="POST", body=b'{"amount": "1.00"}',
                                  expect_errors=True,
                                  headers={"Content-Type": PLAIN, "Accept": accept, "Idempotency-Key": key})
        assert response.status_int == 400 and "Idempotency-Key" in response.text, (key, response.status)
    for content_type in ("text/plain", "application/xml", "multipart/form-data; boundary=x", "image/png"):
        response = client.request("/users", method="POST", body=b'{"user_id": "ct"}', expect_errors=True,
                                  headers={"Content-Type": content_type, "Accept": accept})
        assert 400 <= response.status_int < 500, (content_type, response.status)
    assert snapshot(client) == before
    for odd_accept in ("\x00", "*/*;q=2", "text/html;q=abc, application/json;q=0", "a/b/c"):
        response = client.get("/users", headers={"Accept": odd_accept}, expect_errors=True)
        assert response.status_int in (200, 406), (odd_accept, response.status)


#: Query values at the edges of their types, or not values at all.
QUERY_VALUES = ["", " ", "0001-01-01", "9999-12-31", "9999-12-31T23:59:59", "0000-00-00", "2026-02-30",
                "1e999", "-1", "99999999999999999999999", "NaN", "%00", "\x00", "*", "**", "..", "a..",
                "true,false", "😀", "x" * 3000]


@pytest.mark.parametrize("collection", ["users", "gift_cards", "products", "issuers", "transactions", "changes"])
def test_every_filter_takes_any_value_without_a_server_error(demo, client, collection):
    endpoint = registry_of(demo).endpoint(collection)
    for name in endpoint.filterable:
        for operator in ("", ":greaterthan", ":in", ":isdefined", ":not"):
            for value in QUERY_VALUES:
                response = client.get(f"/{collection}", params={f"{name}{operator}": value},
                                      headers={"Accept": PLAIN}, expect_errors=True)
                assert response.status_int in (200, 400, 414), (name, operator, value[:40], response.text[:200])
                if response.status_int == 400:
                    assert name in response.text
    for query in ("limit=1&limit=2", "limit=", "offset=-1", "zoom=", "order=", "fields=", "zoom=nope",
                  "order=nope desc", "limit=1&limit=1", f"{next(iter(endpoint.filterable))}="):
        response = client.get(f"/{collection}?{query}", headers={"Accept": PLAIN}, expect_errors=True)
        assert response.status_int in (200, 400), (query, response.status)
