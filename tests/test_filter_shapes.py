"""Filtered pages whose queries are written once per shape of their condition
(``query/shapes.py``) send exactly the statements peewee's own queries send
(``FLEXIGIFT_PLAIN_QUERIES=1``): the same SQL with the same parameters, for every
filter operator on every kind of property, with orders, offsets, seeks and a count
that stops at the cap, on SQLite and on PostgreSQL. The shapes kept are bounded.
"""
from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import is_postgres
from flexigift.query import compiled, shapes
from flexigift.registry import registry_of
from hypermedia import HAL

#: Every operator, as a client writes it (``eq`` is the bare name).
OPERATORS = ("", ":not", ":in", ":lessthan", ":lessthanorequal", ":greaterthan", ":greaterthanorequal",
             ":isdefined")
#: Property → values worth trying on it (wildcards, ranges, lists, odd amounts, bad input).
VALUES = {
    "card_id": ["gap*", "*1", "*a*", "GAP-001", "gap-001,kohls-101", "é*", "50%*", "a_b", "true"],
    "balance": ["50", "99.99", "0.001", "5", "1..100", "5,100.01", "-1", "10000000000000", "x", "true"],
    "expiry_date": ["2027-03-01", "2027-01-01..2027-12-31", "2027-03-01,2028-01-01", "false", "bad"],
    "date_created": ["2026-01-01", "2026-06-15T12:00:00+00:00", "2025-01-01..2026-12-31", "true"],
    "single_use": ["true", "false", "1", "maybe"],
    "status": ["active", "expired", "disabled", "active,expired", "nope"],
    "user_id": ["a*", "ada", "ada,grace", "true"],
    "issuer": ["Gap", "Y*", "false"],
    "reference": ["true", "false", "*sale", "50%*"],
    "id": ["2", "1..4", "2,3", "x"],
    "user:email": ["*@example.com", "ada@example.com", "true"],
    "user:name": ["A*", "true"],
}
ORDERS = ["", "order=balance%20desc", "order=card_id", "order=expiry_date,balance%20desc", "order=user_id"]
CAP = 3


class _Statements(logging.Handler):
    """Every (SQL, parameters) peewee sends while attached."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, list]] = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            sql, params = record.msg
            self.seen.append((sql, [str(param) for param in params or ()]))


def _sent(client, url: str) -> tuple[int, dict | str, list[tuple[str, list]]]:
    """The status, body and statements of a GET of ``url``."""
    logger, handler = logging.getLogger("peewee"), _Statements()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        response = client.get(url, headers={"Accept": HAL}, expect_errors=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
    body = response.json if response.content_type.endswith("json") else response.text
    return response.status_int, body, handler.seen


@pytest.fixture
def capped(database_url):
    """An app counting filtered collections up to 3, holding cards of two currencies
    (so money filters compare per minor unit), users, expiry dates and references."""
    application = create_app(Config(database_url=database_url, auth=False, count_cap=CAP))
    client = webtest.TestApp(application, extra_environ={"HTTP_HOST": "localhost:3000"})
    client.post_json("/users", {"user_id": "ada", "name": "Ada", "email": "ada@example.com"})
    client.post_json("/users", {"user_id": "grace", "name": "Grace"})
    client.post_json("/issuers", {"name": "Gap", "currency_code": "USD"})
    client.post_json("/issuers", {"name": "Yen", "currency_code": "JPY"})
    cards = [("gap-001", "Gap", "50", "2027-01-31", "ada", "spring sale"),
             ("GAP-002", "Gap", "99.99", None, "grace", None),
             ("kohls-101", "Gap", "100.01", "2027-03-01", None, "50% off"),
             ("a_b", "Yen", "5", "2020-01-01", None, None),
             ("yen-1", "Yen", "100", None, "ada", "a_b"),
             ("gap-003", "Gap", "5", "2028-01-01", None, None)]
    for card_id, issuer, balance, expiry, user, reference in cards:
        client.post_json("/gift_cards", {"card_id": card_id, "issuer": issuer, "balance": balance,
                                         "expiry_date": expiry, "user_id": user, "reference": reference})
    yield client
    db = application.extensions["flexigift_db"]
    if hasattr(db, "close_all"):
        db.close_all()


def _filter(name: str, operator: str, value: str) -> str:
    return f"{name}{operator}={quote(value, safe='*,.:')}"


filters = st.tuples(st.sampled_from(sorted(VALUES)), st.sampled_from(OPERATORS)).flatmap(
    lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), st.sampled_from(VALUES[pair[0]])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(filters, min_size=1, max_size=3), st.sampled_from(ORDERS), st.integers(0, 4),
       st.integers(0, 5), st.sampled_from(["", "after", "before"]))
def test_filtered_pages_send_what_peewee_sends(capped, monkeypatch, terms, order, limit, offset, seek):
    parts = [_filter(*term) for term in terms]
    zoom = "zoom=user" if any(name.startswith("user:") for name, _, _ in terms) else ""
    paging = f"{seek}={offset + 1}" if seek else f"offset={offset}"
    url = "/gift_cards?" + "&".join(part for part in (*parts, zoom, order, f"limit={limit}", paging) if part)
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", False)  # (whatever FLEXIGIFT_PLAIN_QUERIES says)
    for _ in range(2):  # written, then reused
        fast = _sent(capped, url)
    assert registry_of(capped.app).endpoints["gift_cards"].shapes.refused == 0
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", True)
    plain = _sent(capped, url)
    assert fast[:2] == plain[:2], url
    assert fast[2] == plain[2], url


@pytest.mark.parametrize("operator", [operator for operator in OPERATORS if operator != ":isdefined"])
def test_every_operator_reuses_its_shape_with_other_values(capped, monkeypatch, operator):
    """A second value of the same shape writes no new query: only its parameters change
    (in an order, so that neither value's page is walked)."""
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", False)
    endpoint = registry_of(capped.app).endpoints["gift_cards"]
    first = {"": "gap*", ":not": "gap*", ":in": "5,50", ":lessthan": "50", ":lessthanorequal": "50",
             ":greaterthan": "50", ":greaterthanorequal": "50"}[operator]
    second = {"gap*": "kohls*", "5,50": "6,51"}.get(first, "99.99")
    name = "card_id" if first.endswith("*") else "balance"
    url = "/gift_cards?{}&order=card_id&limit=2"
    capped.get(url.format(_filter(name, operator, first)), headers={"Accept": HAL})
    kept = endpoint.shapes.kept()
    capped.get(url.format(_filter(name, operator, second)), headers={"Accept": HAL})
    # the count and the page (on PostgreSQL, one statement counts and finds the page's ids)
    assert kept == endpoint.shapes.kept() == (1 if is_postgres(capped.app.extensions["flexigift_db"]) else 2)


@pytest.mark.parametrize("filter_", ["card_id=gap*", "card_id:not=*1", "balance:greaterthan=50",
                                     "status=disabled", "date_created:lessthan=2030-01-01", "id:in=1,2"])
def test_a_condition_seen_before_is_read_without_peewee(capped, monkeypatch, filter_):
    """Filters' plain comparisons are read from their nodes once peewee has written one like them."""
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", False)
    capped.get(f"/gift_cards?{filter_}&limit=2", headers={"Accept": HAL})
    written = []
    by_peewee = shapes._by_peewee
    monkeypatch.setattr(shapes, "_by_peewee", lambda db, node: written.append(node) or by_peewee(db, node))
    other = filter_.replace("gap", "kohls").replace("1", "2").replace("50", "60")
    other = other.replace("disabled", "redeemed")
    response = capped.get(f"/gift_cards?{other}&limit=2", headers={"Accept": HAL})
    assert response.status_int == 200
    assert written == []


def test_plain_queries_keep_no_shapes(capped, monkeypatch):
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", True)
    capped.get("/gift_cards?card_id=gap*&limit=2", headers={"Accept": HAL})
    assert registry_of(capped.app).endpoints["gift_cards"].shapes.kept() == 0


def test_the_shapes_kept_are_bounded_and_the_last_used_stay(capped, monkeypatch):
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", False)
    endpoint = registry_of(capped.app).endpoints["gift_cards"]
    monkeypatch.setattr(endpoint, "_shapes", shapes.ShapedSelects(size=4), raising=False)
    lists = [",".join(str(amount) for amount in range(1, length + 1)) for length in range(1, 9)]
    for values in lists:  # each list length is a shape of its own
        response = capped.get(f"/gift_cards?balance:in={values}&limit=2", headers={"Accept": HAL})
        assert response.status_int == 200
        capped.get("/gift_cards?card_id=gap*&limit=2", headers={"Accept": HAL})  # used all along
        assert endpoint.shapes.kept() <= 4
    before = endpoint.shapes.kept()
    capped.get("/gift_cards?card_id=kohls*&limit=2", headers={"Accept": HAL})
    assert endpoint.shapes.kept() == before  # still kept: no shape written anew


@pytest.mark.parametrize("url", [
    "/users?email=*@example.com&limit=1",
    "/users?zoom=gift_cards&gift_cards:balance:greaterthan=10&gift_cards:card_id:not=gap*",
    "/users?name:in=Ada,Grace&order=email%20desc&after=1",
    "/issuers?name=G*&currency_code:not=JPY",
    "/transactions?kind=issue&zoom=gift_card&gift_card:card_id=*1&limit=2&offset=1",
])
def test_other_collections_send_what_peewee_sends(capped, monkeypatch, url):
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", False)
    fast = _sent(capped, url)
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", True)
    plain = _sent(capped, url)
    assert fast[0] == 200
    assert fast == plain
    assert all(endpoint.shapes.refused == 0 for endpoint in registry_of(capped.app).endpoints.values())
