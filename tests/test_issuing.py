"""Issuing cards: one by POST, many from a list, or generated (SPEC 4.3): all or
nothing, every card with its issue entry, in bulk statements."""
from __future__ import annotations

import datetime
import json
import re

import pytest

from api_helpers import database_snapshot
from flexigift.db import is_postgres
from flexigift.models import Delivery, Event, GiftCard, Transaction, Webhook
from flexigift.services import bulk as bulk_inserts, issuing
from flexigift.services.issuing import ALPHABET
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, entries_of, field_of, issuer, logref, utc_today
from query_count import count_queries

CODE = re.compile(f"[{ALPHABET}]+")


@pytest.fixture
def kohls(json_client) -> dict:
    return issuer(json_client, expires_after="30d")


def bulk(api, issuer_id: int, status: int = 201, **body):
    return api.post(f"/issuers/{issuer_id}/bulk_create", body, status=status)


def generate(api, issuer_id: int, status: int = 201, **body):
    return api.post(f"/issuers/{issuer_id}/generate_codes", body, status=status)


def all_card_ids(app) -> list[str]:
    with app.extensions["flexigift_db"].connection_context():
        return [card_id for (card_id,) in GiftCard.select(GiftCard.card_id).tuples()]


# -- one card -------------------------------------------------------------------

def test_one_card_gets_its_issue_entry_and_the_issuers_currency(json_client):
    issuer(json_client, currency_code="EUR")
    created = card(json_client, balance="12.50", single_use=True, rechargeable=False, balance_max=20)
    assert created["currency_code"] == "EUR" and created["initial_balance"] == created["balance"]
    assert (created["single_use"], created["rechargeable"], created["balance_max"]) == (True, False, 20)
    [entry] = entries_of(json_client, created["id"])
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("issue", 12.5, 12.5)


def test_disable_and_enable_a_card(json_client):
    created = card(json_client)
    assert json_client.patch(f"/gift_cards/{created['id']}", {"status": "disabled"}).json["status"] == "disabled"
    assert json_client.patch(f"/gift_cards/{created['id']}", {"status": "active"}).json["status"] == "active"
    response = json_client.patch(f"/gift_cards/{created['id']}", {"status": "redeemed"}, status=422)
    assert field_of(response) == "status"


# -- from a list ------------------------------------------------------------------

def test_bulk_create_issues_every_card_with_its_entry(json_client, kohls):
    response = bulk(json_client, kohls["id"], card_ids=["k-1", "k-2", "k-3"], balance=100)
    assert response.json["count"] == 3 and response.json["card_ids"] == ["k-1", "k-2", "k-3"]
    assert response.headers["Location"].endswith(f"/issuers/{kohls['id']}/gift_cards")
    cards = json_client.get(f"/issuers/{kohls['id']}/gift_cards").json
    expiry = (utc_today() + datetime.timedelta(days=30)).isoformat()
    assert [(c["card_id"], c["balance"], c["initial_balance"], c["expiry_date"], c["status"]) for c in cards] \
        == [(card_id, 100, 100, expiry, "active") for card_id in ("k-1", "k-2", "k-3")]
    for created in cards:
        assert [entry["kind"] for entry in entries_of(json_client, created["id"])] == ["issue"]


def test_bulk_create_response_links_the_issuers_cards(client, json_client, kohls):
    response = client.post_json(f"/issuers/{kohls['id']}/bulk_create", {"card_ids": ["x"]}, status=201)
    assert response.json["_links"]["fg:gift_cards"]["href"].endswith(f"/issuers/{kohls['id']}/gift_cards")
    assert response.json["balance"] == 0


def test_one_card_id_already_taken_is_a_409_and_nothing_is_issued(app, json_client, kohls):
    card(json_client, "taken")
    before = database_snapshot(app)
    response = bulk(json_client, kohls["id"], status=409, card_ids=["new-1", "taken", "new-2"], balance=5)
    assert logref(response) == "duplicate" and "'taken'" in response.json["errors"][0]["message"]
    assert database_snapshot(app) == before


def test_a_card_id_repeated_in_the_list_is_a_422_and_nothing_is_issued(app, json_client, kohls):
    before = database_snapshot(app)
    response = bulk(json_client, kohls["id"], status=422, card_ids=["a", "b", "a"])
    assert field_of(response) == "card_ids"
    assert database_snapshot(app) == before


@pytest.mark.parametrize("body, field", [
    ({}, "card_ids"),
    ({"card_ids": []}, "card_ids"),
    ({"card_ids": "abc"}, "card_ids"),
    ({"card_ids": [""]}, "card_ids.0"),
    ({"card_ids": ["x" * 51]}, "card_ids.0"),
    ({"card_ids": [7]}, "card_ids.0"),
    ({"card_ids": ["a"], "balance": -1}, "balance"),
    ({"card_ids": ["a"], "balance": "1.005"}, "balance"),
    ({"card_ids": ["a"], "balance": 100, "balance_max": 50}, "balance_max"),
    ({"card_ids": ["a"], "colour": "red"}, "colour"),
    ({"card_ids": ["a\u0000b"]}, "card_ids"),
])
def test_bad_bulk_bodies_are_422_naming_the_field(app, json_client, kohls, body, field):
    before = database_snapshot(app)
    response = bulk(json_client, kohls["id"], status=422, **body)
    assert field in [entry.get("field") for entry in response.json["errors"]]
    assert database_snapshot(app) == before


def test_bulk_create_for_an_unknown_issuer_is_a_404(json_client):
    bulk(json_client, 999, status=404, card_ids=["a"])


def test_bulk_create_from_an_html_form(client, kohls):
    response = client.post(f"/issuers/{kohls['id']}/bulk_create",
                           {"card_ids": "f-1, f-2\nf-3", "balance": "25.50", "expiry_date": ""},
                           headers={"Accept": "application/json"}, status=201)
    assert response.json["card_ids"] == ["f-1", "f-2", "f-3"] and response.json["balance"] == 25.5


def test_bulk_inserts_take_a_few_statements_not_one_per_card(app, json_client, kohls):
    card_ids = [f"q-{number}" for number in range(5000)]
    with count_queries() as counted:
        bulk(json_client, kohls["id"], card_ids=card_ids, balance=1)
    inserts = [sql for sql in counted.statements if sql.lstrip().upper().startswith("INSERT")]
    assert 2 <= len(inserts) <= 6, counted.report()
    assert counted.count < 12, counted.report()
    assert len(all_card_ids(app)) == 5000


# -- generated ------------------------------------------------------------------

def test_generate_codes_defaults_to_ten_codes_of_six_with_balance_zero(app, json_client, kohls):
    response = generate(json_client, kohls["id"])
    codes = response.json["card_ids"]
    assert response.json["count"] == len(codes) == len(set(codes)) == 10
    assert all(len(code) == 6 and CODE.fullmatch(code) for code in codes)
    assert sorted(all_card_ids(app)) == sorted(codes)
    cards = json_client.get(f"/issuers/{kohls['id']}/gift_cards").json
    assert {c["balance"] for c in cards} == {0}


def test_generated_codes_have_the_prefix_inside_the_length(app, json_client, kohls):
    codes = generate(json_client, kohls["id"], number_of_codes=500, length=12, prefix="summer_",
                     balance="20.00").json["card_ids"]
    assert len(set(codes)) == 500
    for code in codes:
        assert len(code) == 12 and code.startswith("summer_") and CODE.fullmatch(code[7:])
        assert not set(code[7:]) & set("01OIl")
    cards = json_client.get(f"/issuers/{kohls['id']}/gift_cards?limit=300").json
    assert {c["balance"] for c in cards} == {20}


def test_codes_stay_unique_across_requests_in_a_small_code_space(app, json_client, kohls):
    for _ in range(3):  # 9,000 codes of 3 symbols (32,768 possible): draws collide, are redrawn
        generate(json_client, kohls["id"], number_of_codes=3000, length=3)
    codes = all_card_ids(app)
    assert len(codes) == len(set(codes)) == 9000


def test_the_last_free_codes_of_a_crowded_code_space_are_found(app, json_client, kohls):
    """With 800 of the 1,024 two-symbol codes taken, 100 more are still there to find: the
    last few missing codes collide most of the time, and the issue must not give up on them."""
    space = [a + b for a in ALPHABET for b in ALPHABET]
    taken = space[:800]
    bulk(json_client, kohls["id"], card_ids=taken, balance=1)
    for _ in range(3):  # each try would give up about two times in three if it redrew one code at a time
        codes = generate(json_client, kohls["id"], number_of_codes=100 // 3, length=2).json["card_ids"]
        assert len(set(codes)) == 100 // 3 and not set(codes) & set(taken), codes
        taken += codes
    assert sorted(all_card_ids(app)) == sorted(taken)


def test_a_large_batch_writes_every_entry_event_and_delivery_as_a_small_one(app, json_client, kohls):
    """Past ``COPY_FROM`` rows PostgreSQL takes the rows by COPY: the same cards, issue
    entries, card.issued events (in card order, representing each card as GET does) and the
    deliveries each subscription is owed."""
    other = issuer(json_client, name="Other")
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        every, own, others, users = (Webhook.create(url="https://example.com/hook", secret="s" * 32,
                                                    event_types=types, issuer_id=issuer_id).id
                                     for types, issuer_id in (('["*"]', None), ('["card.*"]', kohls["id"]),
                                                              ('["card.issued"]', other["id"]),
                                                              ('["user.*"]', None)))
    count = bulk_inserts.COPY_FROM + 7
    with count_queries() as counted:
        codes = generate(json_client, kohls["id"], number_of_codes=count, length=12, prefix="big-",
                         balance="5.00").json["card_ids"]
    copied = [sql for sql in counted.statements if sql.startswith("COPY")]
    assert bool(copied) == is_postgres(db), counted.report()
    assert counted.count <= 12, counted.report()  # a few statements, none per card
    with db.connection_context():
        cards = list(GiftCard.select(GiftCard.id, GiftCard.card_id).order_by(GiftCard.id).tuples())
        assert [card_id for _, card_id in cards] == codes
        entries = list(Transaction.select(Transaction.gift_card, Transaction.kind, Transaction.amount,
                                          Transaction.balance_after).order_by(Transaction.id).tuples())
        assert entries == [(pk, "issue", 500, 500) for pk, _ in cards]
        events = list(Event.select().where(Event.type == "card.issued").order_by(Event.id))
        assert [(e.resource, e.resource_id, e.issuer_id) for e in events] == [
            ("gift_card", pk, kohls["id"]) for pk, _ in cards]
        owed = {webhook: [event for event, in Delivery.select(Delivery.event).where(Delivery.webhook == webhook)
                          .order_by(Delivery.id).tuples()] for webhook in (every, own, others, users)}
        assert owed == {every: [e.id for e in events], own: [e.id for e in events], others: [], users: []}
    for event in (events[0], events[len(events) // 2], events[-1]):
        assert json.loads(event.representation) == json_client.get(f"/gift_cards/{event.resource_id}").json
    # past the count cap (1,000) the total is "more than"; the last offsets say how many
    assert json_client.get("/gift_cards?card_id=big-*&limit=1").headers["X-Total-Count-More-Than"] == "1000"
    assert len(json_client.get(f"/gift_cards?card_id=big-*&limit=1&offset={count - 1}").json) == 1
    assert json_client.get(f"/gift_cards?card_id=big-*&limit=1&offset={count}").json == []


def test_a_generated_code_that_is_already_taken_is_replaced(app, json_client, kohls, monkeypatch):
    card(json_client, "AAAAAA", balance=7)
    draws = iter([["AAAAAA", "BBBBBB"], ["CCCCCC"]])
    monkeypatch.setattr(issuing, "draw_codes", lambda *args, **kwargs: next(draws))
    codes = generate(json_client, kohls["id"], number_of_codes=2).json["card_ids"]
    assert sorted(codes) == ["BBBBBB", "CCCCCC"]
    assert json_client.get("/gift_cards?card_id=AAAAAA").json[0]["balance"] == 7


def test_when_no_free_code_can_be_found_nothing_is_issued(app, json_client, kohls, monkeypatch):
    card(json_client, "AAAAAA")
    before = database_snapshot(app)
    monkeypatch.setattr(issuing, "draw_codes", lambda *args, **kwargs: ["AAAAAA"])
    response = generate(json_client, kohls["id"], number_of_codes=1, status=409)
    assert logref(response) == "code_space_exhausted"
    assert database_snapshot(app) == before


@pytest.mark.parametrize("body, field", [
    ({"length": 2, "number_of_codes": 200}, "length"),        # 1,024 codes: too few for 200
    ({"length": 4, "prefix": "abcd"}, "length"),               # no room after the prefix
    ({"length": 51}, "length"),
    ({"length": 0}, "length"),
    ({"length": 6.5}, "length"),
    ({"length": "six"}, "length"),
    ({"number_of_codes": 0}, "number_of_codes"),
    ({"number_of_codes": 100_001}, "number_of_codes"),
    ({"number_of_codes": True}, "number_of_codes"),
    ({"prefix": "p" * 50}, "prefix"),
    ({"balance": "ten"}, "balance"),
    ({"prefix": "\u0000"}, "prefix"),
])
def test_bad_generate_bodies_are_422_naming_the_field(app, json_client, kohls, body, field):
    before = database_snapshot(app)
    response = generate(json_client, kohls["id"], status=422, **body)
    assert field in [entry.get("field") for entry in response.json["errors"]], response.json
    assert database_snapshot(app) == before


def test_generate_codes_from_an_html_form(client, kohls):
    response = client.post(f"/issuers/{kohls['id']}/generate_codes",
                           {"length": "8", "number_of_codes": "3", "prefix": "", "balance": "5"},
                           headers={"Accept": "application/json"}, status=201)
    assert response.json["count"] == 3 and all(len(code) == 8 for code in response.json["card_ids"])


def test_drawn_codes_are_distinct_and_from_the_alphabet():
    codes = issuing.draw_codes(20_000, 5, "P-", exclude={"P-22222"})
    assert len(codes) == len(set(codes)) == 20_000
    assert all(code.startswith("P-") and CODE.fullmatch(code[2:]) and len(code) == 7 for code in codes)
    assert len(set(ALPHABET)) == 32 and not set(ALPHABET) & set("01OIl")


# -- retries with an Idempotency-Key --------------------------------------------------

def keyed(key: str) -> dict:
    return {"Idempotency-Key": key}


def test_a_retried_generate_codes_answers_the_first_codes_and_issues_nothing_more(app, json_client, kohls):
    body = {"number_of_codes": 25, "length": 8, "balance": 10}
    first = json_client.post(f"/issuers/{kohls['id']}/generate_codes", body, headers=keyed("batch-1"))
    retry = json_client.post(f"/issuers/{kohls['id']}/generate_codes", body, headers=keyed("batch-1"))
    assert retry.json["card_ids"] == first.json["card_ids"] and len(first.json["card_ids"]) == 25
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert sorted(all_card_ids(app)) == sorted(first.json["card_ids"])


def test_a_retried_bulk_create_answers_201_again_instead_of_409(app, json_client, kohls):
    body = {"card_ids": ["k-1", "k-2", "k-3"], "balance": 5}
    first = json_client.post(f"/issuers/{kohls['id']}/bulk_create", body, headers=keyed("list-1"))
    retry = json_client.post(f"/issuers/{kohls['id']}/bulk_create", body, headers=keyed("list-1"))
    assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
    assert sorted(all_card_ids(app)) == ["k-1", "k-2", "k-3"]
    # Without the key, the same list is a conflict: the cards exist.
    json_client.post(f"/issuers/{kohls['id']}/bulk_create", body, status=409)


def test_an_issuing_key_reused_for_another_request_is_422_and_issues_nothing(app, json_client, kohls):
    url = f"/issuers/{kohls['id']}/generate_codes"
    json_client.post(url, {"number_of_codes": 3}, headers=keyed("batch-2"))
    response = json_client.post(url, {"number_of_codes": 4}, headers=keyed("batch-2"), status=422)
    assert field_of(response) == "Idempotency-Key"
    json_client.post(f"/issuers/{kohls['id']}/bulk_create", {"card_ids": ["x-1"]},
                     headers=keyed("batch-2"), status=422)
    assert len(all_card_ids(app)) == 3


def test_a_failed_keyed_issue_leaves_the_key_free_for_its_retry(app, json_client, kohls):
    json_client.post(f"/issuers/{kohls['id']}/bulk_create", {"card_ids": ["taken"]})
    url = f"/issuers/{kohls['id']}/bulk_create"
    json_client.post(url, {"card_ids": ["taken", "free"]}, headers=keyed("list-2"), status=409)
    assert sorted(all_card_ids(app)) == ["taken"]
    # The refused request recorded nothing under the key, so it can carry a new request.
    json_client.post(url, {"card_ids": ["free"]}, headers=keyed("list-2"), status=201)
    assert sorted(all_card_ids(app)) == ["free", "taken"]
