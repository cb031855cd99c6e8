"""Redeeming a card for a product (SPEC 4.4): atomic, exact, never below zero,
409 naming why a card cannot pay, and idempotent with an Idempotency-Key."""
from __future__ import annotations

import datetime
import decimal

import pytest

from api_helpers import database_snapshot
from flexigift.db import is_postgres
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from query_count import count_queries
from money_helpers import (balance_of, card, entries_of, exact, field_of, issuer, kohls_world, logref,
                           product, redeem, user, utc_today)

HAL = "application/hal+json"


def test_redeem_debits_the_products_price_by_default(client, json_client):
    owner = user(json_client)
    created, bed = kohls_world(json_client, user_id=owner["user_id"])
    response = redeem(json_client, created["id"], order_reference="order-1")
    entry = response.json
    assert response.headers["Location"] == f"http://localhost:3000/transactions/{entry['id']}"
    assert (entry["kind"], entry["amount"], entry["balance_after"]) == ("redeem", -50, 50)
    assert entry["order_reference"] == "order-1" and entry["currency_code"] == "USD"
    assert balance_of(json_client, created["id"]) == 50
    links = client.get(f"/transactions/{entry['id']}").json["_links"]
    assert links["fg:gift_card"]["href"].endswith(f"/gift_cards/{created['id']}")
    assert links["fg:product"]["href"].endswith(f"/products/{bed['id']}")
    assert links["fg:user"]["href"].endswith(f"/users/{owner['id']}")


def test_redeem_an_explicit_amount_and_by_product_link(json_client):
    created, bed = kohls_world(json_client)
    body = {"amount": "12.34", "_links": {"fg:product": {"href": f"http://localhost:3000/products/{bed['id']}"}}}
    entry = json_client.post(f"/gift_cards/{created['id']}/redeem", body).json
    assert exact_amount(entry["amount"]) == decimal.Decimal("-12.34")
    assert balance_of(json_client, created["id"]) == decimal.Decimal("87.66")


def test_a_product_named_by_id_and_link_together_is_the_same_product_or_a_422(json_client):
    created, bed = kohls_world(json_client)
    link = {"fg:product": {"href": f"http://localhost:3000/products/{bed['id']}"}}
    entry = json_client.post(f"/gift_cards/{created['id']}/redeem",
                             {"product_id": "kohls-dogbed-001", "amount": "1.00", "_links": link}).json
    assert exact_amount(entry["amount"]) == decimal.Decimal("-1.00")
    response = json_client.post(f"/gift_cards/{created['id']}/redeem",
                                {"product_id": "nothing-like-it", "_links": link}, status=422)
    assert field_of(response) == "product_id"
    assert balance_of(json_client, created["id"]) == decimal.Decimal("99.00")


def exact_amount(value) -> decimal.Decimal:
    return decimal.Decimal(str(value))


def test_insufficient_balance_is_a_409_and_writes_nothing(app, json_client):
    created, _ = kohls_world(json_client, balance=30)
    before = database_snapshot(app)
    response = redeem(json_client, created["id"], status=409)
    assert logref(response) == "insufficient_balance" and field_of(response) == "amount"
    assert database_snapshot(app) == before


def test_allow_partial_debits_what_the_card_holds(json_client):
    created, _ = kohls_world(json_client, balance=30)
    entry = redeem(json_client, created["id"], allow_partial=True).json
    assert (entry["amount"], entry["balance_after"]) == (-30, 0)
    response = redeem(json_client, created["id"], status=409, allow_partial=True)
    assert logref(response) == "insufficient_balance"


def test_allow_partial_debits_the_whole_amount_when_the_card_holds_enough(json_client):
    created, _ = kohls_world(json_client, balance=80)
    assert redeem(json_client, created["id"], allow_partial=True).json["amount"] == -50


def test_ten_redemptions_of_ten_cents_leave_exactly_zero(json_client):
    created, _ = kohls_world(json_client, balance="1.00")
    for _ in range(10):
        redeem(json_client, created["id"], amount="0.10")
    response = json_client.get(f"/gift_cards/{created['id']}")
    assert exact(response, "balance") == decimal.Decimal("0")
    assert '"balance":0,' in response.text or '"balance":0.00,' in response.text
    redeem(json_client, created["id"], amount="0.01", status=409)


def test_a_disabled_card_cannot_pay_until_enabled_again(json_client):
    created, _ = kohls_world(json_client)
    json_client.patch(f"/gift_cards/{created['id']}", {"status": "disabled"})
    assert logref(redeem(json_client, created["id"], status=409)) == "card_disabled"
    json_client.patch(f"/gift_cards/{created['id']}", {"status": "active"})
    redeem(json_client, created["id"])


def test_a_card_is_usable_through_its_expiry_day_and_not_after(json_client):
    issuer(json_client)
    product(json_client)
    today = card(json_client, "today", expiry_date=utc_today().isoformat())
    yesterday = card(json_client, "yesterday",
                     expiry_date=(utc_today() - datetime.timedelta(days=1)).isoformat())
    redeem(json_client, today["id"])
    assert logref(redeem(json_client, yesterday["id"], status=409)) == "card_expired"


def test_a_single_use_card_is_redeemed_after_its_first_redemption(json_client):
    created, _ = kohls_world(json_client, single_use=True)
    redeem(json_client, created["id"], amount=10)
    after = json_client.get(f"/gift_cards/{created['id']}").json
    assert (after["status"], after["balance"]) == ("redeemed", 90)
    assert logref(redeem(json_client, created["id"], status=409, amount=10)) == "card_redeemed"
    response = json_client.patch(f"/gift_cards/{created['id']}", {"status": "active"}, status=409)
    assert logref(response) == "card_redeemed"


def test_a_card_of_another_issuer_cannot_pay(json_client):
    kohls_world(json_client)
    gap = card(json_client, "gap-1", issuer="Gap")
    assert logref(redeem(json_client, gap["id"], status=409)) == "wrong_issuer"


def test_a_restricted_product_cannot_be_paid_for(json_client):
    issuer(json_client, product_code_restrictions="fun_*, *-small")
    created = card(json_client)
    product(json_client)
    product(json_client, product_id="example-small")
    assert logref(redeem(json_client, created["id"], status=409)) == "restricted_product"
    redeem(json_client, created["id"], product_id="example-small")


def test_a_card_in_another_currency_cannot_pay(json_client):
    created, _ = kohls_world(json_client, currency_code="EUR")
    assert logref(redeem(json_client, created["id"], status=409)) == "currency_mismatch"


@pytest.mark.parametrize("body, field", [
    ({"product_id": None}, "product_id"),
    ({"product_id": "nothing-like-it"}, "product_id"),
    ({"amount": "abc"}, "amount"),
    ({"amount": 0}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"amount": 1e400}, None),
    ({"allow_partial": "perhaps"}, "allow_partial"),
    ({"order_reference": "x" * 101}, "order_reference"),
    ({"colour": "red"}, "colour"),
    ({"order_reference": "a\u0000"}, "order_reference"),
    ({"product_id": "kohls\u0000"}, "product_id"),
    ({"_links": {"fg:product": {"href": "http://localhost:3000/users/1"}}}, "_links.fg:product"),
])
def test_bad_redeem_bodies_are_4xx_naming_the_field_and_write_nothing(app, json_client, body, field):
    created, _ = kohls_world(json_client)
    before = database_snapshot(app)
    body = {"product_id": "kohls-dogbed-001", **body}
    if body["product_id"] is None:
        del body["product_id"]
    response = json_client.client.post_json(f"/gift_cards/{created['id']}/redeem", body,
                                            headers={"Accept": "application/json"}, expect_errors=True)
    assert response.status_int in (400, 422), response.text
    if field is not None:
        assert field in [entry.get("field") for entry in response.json["errors"]], response.json
    assert database_snapshot(app) == before


def test_redeeming_an_unknown_card_is_a_404(json_client):
    kohls_world(json_client)
    redeem(json_client, 999, status=404)
    redeem(json_client, 2**40, status=404)


def test_redeem_from_an_html_form(client, json_client):
    created, _ = kohls_world(json_client)
    response = client.post(f"/gift_cards/{created['id']}/redeem",
                           {"product_id": "kohls-dogbed-001", "amount": "", "allow_partial": "false"},
                           headers={"Accept": "application/json"}, status=201)
    assert response.json["amount"] == -50


def test_a_card_links_and_offers_redeem(client, json_client):
    created, _ = kohls_world(json_client)
    document = client.get(f"/gift_cards/{created['id']}", headers={"Accept": SIREN}).json
    [action] = [action for action in document["actions"] if action["name"] == "redeem"]
    assert action["method"] == "POST" and action["href"].endswith(f"/gift_cards/{created['id']}/redeem")
    assert [field["name"] for field in action["fields"]] == ["amount", "product_id", "order_reference",
                                                            "user_id", "allow_partial"]
    links = client.get(f"/gift_cards/{created['id']}").json["_links"]
    assert links["fg:redeem"]["href"] == action["href"]
    assert links["fg:transactions"]["href"].endswith(f"/gift_cards/{created['id']}/transactions")


def test_a_disabled_card_offers_no_redeem(client, json_client):
    created, _ = kohls_world(json_client, status="disabled")
    links = client.get(f"/gift_cards/{created['id']}").json["_links"]
    assert "fg:redeem" not in links and "fg:transactions" in links


# -- idempotency --------------------------------------------------------------------

def test_a_retry_with_the_same_key_returns_the_first_response_without_a_second_debit(client, json_client):
    created, _ = kohls_world(json_client)
    headers = {"Idempotency-Key": "order-1-attempt", "Accept": HAL}
    body = {"product_id": "kohls-dogbed-001", "amount": 20}
    url = f"/gift_cards/{created['id']}/redeem"
    first = client.post_json(url, body, headers=headers, status=201)
    again = client.post_json(url, {"amount": "20.00", "product_id": "kohls-dogbed-001"}, headers=headers,
                             status=201)
    assert again.body == first.body and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert balance_of(json_client, created["id"]) == 80
    assert len(entries_of(json_client, created["id"], kind="redeem")) == 1
    assert first.json["idempotency_key"] == "order-1-attempt"


def test_the_same_key_with_another_body_is_a_422(app, json_client):
    created, _ = kohls_world(json_client)
    redeem(json_client, created["id"], amount=20, headers={"Idempotency-Key": "k"})
    before = database_snapshot(app)
    response = redeem(json_client, created["id"], amount=30, headers={"Idempotency-Key": "k"}, status=422)
    assert field_of(response) == "Idempotency-Key"
    assert database_snapshot(app) == before


def test_the_same_key_on_another_card_is_a_422(json_client):
    created, _ = kohls_world(json_client)
    other = card(json_client, "other")
    redeem(json_client, created["id"], headers={"Idempotency-Key": "k"})
    redeem(json_client, other["id"], headers={"Idempotency-Key": "k"}, status=422)


def test_a_refused_request_is_not_remembered(json_client):
    created, _ = kohls_world(json_client, balance=30)
    headers = {"Idempotency-Key": "retry-me"}
    redeem(json_client, created["id"], headers=headers, status=409)
    json_client.post(f"/gift_cards/{created['id']}/reload", {"amount": 20})
    redeem(json_client, created["id"], headers=headers)
    assert balance_of(json_client, created["id"]) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "with space"])
def test_an_unusable_key_is_a_400_naming_the_header(json_client, key):
    created, _ = kohls_world(json_client)
    response = redeem(json_client, created["id"], headers={"Idempotency-Key": key}, status=400)
    assert field_of(response) == "Idempotency-Key"


def test_a_replay_answers_in_the_media_type_asked_for(client, json_client):
    created, _ = kohls_world(json_client)
    url = f"/gift_cards/{created['id']}/redeem"
    body = {"product_id": "kohls-dogbed-001"}
    first = client.post_json(url, body, headers={"Idempotency-Key": "m", "Accept": HAL})
    plain = client.post_json(url, body, headers={"Idempotency-Key": "m", "Accept": "application/json"})
    assert {key: value for key, value in first.json.items() if key != "_links"} == plain.json


def test_a_redemption_answers_with_its_entry_without_reading_it_back(client, json_client):
    created, bed = kohls_world(json_client)
    redeem(json_client, created["id"])  # the first request compiles what the rest reuse
    with count_queries() as counted:
        entry = redeem(json_client, created["id"]).json
    # the card (read once, locked, its currency reading the body), the product, the conditional
    # debit (summing the card's holds itself) and the entry, then the event with the
    # subscriptions it goes to. On PostgreSQL the card's read takes the entry's id and reads
    # the product too, and the debit writes the entry and its event and reads the
    # subscriptions. Nothing reads the entry back, nor the card again for the event
    assert counted.count == (2 if is_postgres() else 6), counted.report()
    assert sum('FROM "gift_card"' in sql for sql in counted.queries) == 1, counted.report()
    assert not any(sql.lstrip().upper().startswith("SELECT") and '"transaction"' in sql
                   for sql in counted.queries), counted.report()
    assert not any(sql.lstrip().upper().startswith("SELECT") and 'FROM "hold"' in sql
                   for sql in counted.queries), counted.report()
    assert entry == client.get(f"/transactions/{entry['id']}", headers={"Accept": "application/json"}).json

def test_an_idempotent_redemption_costs_three_statements_more(client, json_client):
    created, bed = kohls_world(json_client)
    redeem(json_client, created["id"], headers={"Idempotency-Key": "warm"})  # compiles what the rest reuse
    with count_queries() as counted:
        redeem(json_client, created["id"], headers={"Idempotency-Key": "second"})
    # the key claimed, at most a few expired keys pruned, the outcome recorded
    assert counted.count == (2 if is_postgres() else 6) + 3, counted.report()
    assert sum('"idempotency_record"' in sql.split("WHERE")[0] for sql in counted.queries) == 3, counted.report()


@pytest.mark.parametrize("location", ["http://localhost/transactions/7", "https://api.example.com:8443/a_b/c-d.e~f",
                                      "http://LocalHost/x", "http://localhost/caf\u00e9", "http://localhost/a b",
                                      "http://[::1]:8000/x", "/transactions/7"])
def test_a_location_is_sent_as_werkzeug_would_send_it(location):
    """The 201's headers skip werkzeug's copy only where its iri_to_uri would change nothing."""
    from werkzeug.urls import iri_to_uri
    from flask import Response as PlainResponse

    from flexigift.http.respond import Response

    environ = {"REQUEST_METHOD": "POST", "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    ours = Response(b"{}", status=201, headers={"Location": location, "Content-Length": "2"})
    plain = PlainResponse(b"{}", status=201, headers={"Location": location, "Content-Length": "2"})
    assert list(ours.get_wsgi_headers(environ)) == list(plain.get_wsgi_headers(environ))
    assert ours.get_wsgi_headers(environ)["Location"] == iri_to_uri(location)
