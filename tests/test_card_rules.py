"""What is fixed once a card is issued (SPEC 2): its issuer and currency always;
single_use and rechargeable after its first transaction beyond the issue;
balance_max never below the balance; an expired card comes back only through an
explicit extension of its expiry date, recorded in its history as ``extended``.
A refused change is a 409 naming the rule in every media type, and writes nothing.
"""
from __future__ import annotations

import datetime

import pytest

from api_helpers import database_snapshot
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, issuer, kohls_world, logref, redeem, utc_today
from query_count import count_queries

MEDIA_TYPES = ["application/json", "application/hal+json", SIREN, "application/hal+xml", "text/html"]


def refused_patch(client, app, card_pk: int, body: dict, accept: str, rule: str) -> None:
    """PATCH ``body``: a 409 in the media type asked for, naming ``rule``, with nothing written."""
    before = database_snapshot(app)
    response = client.patch_json(f"/gift_cards/{card_pk}", body, headers={"Accept": accept}, status=409)
    assert accept.split(";")[0] in response.content_type or accept == "application/json"
    assert rule in response.text
    assert database_snapshot(app) == before


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_the_issuer_never_changes(app, client, json_client, accept):
    created, _ = kohls_world(json_client)
    issuer(json_client, name="Macys")
    refused_patch(client, app, created["id"], {"issuer": "Macys"}, accept, "issuer_fixed")


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_the_currency_never_changes(app, client, json_client, accept):
    created, _ = kohls_world(json_client)
    refused_patch(client, app, created["id"], {"currency_code": "EUR"}, accept, "currency_fixed")


@pytest.mark.parametrize("accept", MEDIA_TYPES)
@pytest.mark.parametrize("term", ["single_use", "rechargeable"])
def test_single_use_and_rechargeable_are_fixed_after_the_first_transaction(app, client, json_client,
                                                                          accept, term):
    created, _ = kohls_world(json_client)
    flipped = not created[term]
    json_client.patch(f"/gift_cards/{created['id']}", {term: flipped})  # before any use: allowed
    redeem(json_client, created["id"], amount=1)
    refused_patch(client, app, created["id"], {term: not flipped}, accept, "terms_fixed")
    json_client.patch(f"/gift_cards/{created['id']}", {term: flipped})  # repeating it is fine


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_balance_max_is_never_below_the_balance(app, client, json_client, accept):
    created, _ = kohls_world(json_client, balance=100)
    refused_patch(client, app, created["id"], {"balance_max": "99.99"}, accept, "balance_max_below_balance")
    assert json_client.patch(f"/gift_cards/{created['id']}", {"balance_max": 100}).json["balance_max"] == 100


def test_a_put_cannot_flip_terms_of_a_used_card(json_client):
    created, _ = kohls_world(json_client, single_use=True)
    json_client.post(f"/gift_cards/{created['id']}/reload", {"amount": 1})
    response = json_client.put(f"/gift_cards/{created['id']}", {"card_id": "kohls-gc-001", "issuer": "Kohls"},
                               status=409)
    assert logref(response) == "terms_fixed"


def test_an_expired_card_comes_back_only_by_extending_its_expiry_date(json_client):
    yesterday = utc_today() - datetime.timedelta(days=1)
    created = issuer(json_client) and card(json_client, expiry_date=yesterday.isoformat())
    url = f"/gift_cards/{created['id']}"
    assert json_client.get(url).json["status"] == "expired"
    # neither a status change nor a PUT without an expiry date brings it back
    assert json_client.patch(url, {"status": "active", "reference": "r"}).json["status"] == "expired"
    assert json_client.put(url, {"card_id": "kohls-gc-001", "issuer": "Kohls"}).json["status"] == "expired"
    later = (utc_today() + datetime.timedelta(days=30)).isoformat()
    body = json_client.patch(url, {"expiry_date": later}).json
    assert (body["status"], body["expiry_date"]) == ("active", later)
    history = json_client.get(f"{url}/history").json
    entries = history  # plain JSON: the list of changes, oldest first
    extended = [entry for entry in entries if entry["action"] == "extended"]
    assert len(extended) == 1
    assert extended[0]["changes"]["expiry_date"] == [yesterday.isoformat(), later]


def test_a_patch_writes_only_the_columns_it_changes(json_client):
    created, _ = kohls_world(json_client)
    with count_queries() as counted:
        json_client.patch(f"/gift_cards/{created['id']}", {"reference": "r2", "balance": 100})
    updates = [sql for sql in counted.queries if sql.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, counted.report()
    assigned = updates[0].split(" SET ")[1].split(" WHERE ")[0]
    assert '"reference"' in assigned and '"date_modified"' in assigned
    assert '"balance"' not in assigned and '"status"' not in assigned, updates[0]
    with count_queries() as counted:  # a PATCH that changes nothing writes nothing
        json_client.patch(f"/gift_cards/{created['id']}", {"reference": "r2"})
    assert not [sql for sql in counted.queries if sql.lstrip().upper().startswith("UPDATE")]


# -- an issuer's currency ---------------------------------------------------------

@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_an_issuers_currency_cannot_change_while_cards_or_products_are_priced_in_it(app, client, json_client,
                                                                                    accept):
    created = issuer(json_client, name="Galeries", currency_code="EUR")
    json_client.patch(f"/issuers/{created['id']}", {"currency_code": "GBP"})  # nothing priced yet
    json_client.post("/gift_cards", {"card_id": "gal-1", "issuer": "Galeries", "balance": 5})
    before = database_snapshot(app)
    response = client.patch_json(f"/issuers/{created['id']}", {"currency_code": "USD"},
                                 headers={"Accept": accept}, status=409)
    assert "currency_in_use" in response.text
    assert database_snapshot(app) == before
    json_client.patch(f"/issuers/{created['id']}", {"currency_code": "GBP", "expires_after": "2y"})


def test_products_alone_hold_an_issuers_currency(json_client):
    created = issuer(json_client)
    json_client.post("/products", {"product_id": "p-1", "name": "x", "price": 1, "eligible_issuer": "Kohls"})
    response = json_client.put(f"/issuers/{created['id']}", {"name": "Kohls", "currency_code": "EUR"},
                               status=409)
    assert logref(response) == "currency_in_use"
