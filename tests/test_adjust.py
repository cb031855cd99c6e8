"""Adjustments: an admin's correction of a card's balance (ledger kind ``adjust``),
with a mandatory reason, never below zero, idempotent like redeem, offered as an
action in every media type and documented under /rels (SPEC 2, 4.4)."""
from __future__ import annotations

import decimal

import pytest

from api_helpers import database_snapshot
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, entries_of, field_of, kohls_world, logref, redeem

MEDIA_TYPES = ["application/json", "application/hal+json", SIREN, "application/hal+xml", "text/html"]


def adjust(api, card_pk: int, status: int = 201, headers=None, **body):
    return api.post(f"/gift_cards/{card_pk}/adjust", body, status=status, headers=headers)


def test_an_adjustment_adds_or_takes_away_with_its_reason(json_client):
    created, _ = kohls_world(json_client)
    added = adjust(json_client, created["id"], amount="12.34", reason="goodwill").json
    assert (added["kind"], exact_of(added, "amount"), added["reason"]) == ("adjust", "12.34", "goodwill")
    taken = adjust(json_client, created["id"], amount="-112.34", reason="fraud").json
    assert taken["balance_after"] == 0 and balance_of(json_client, created["id"]) == 0
    assert [entry["kind"] for entry in entries_of(json_client, created["id"])] == ["issue", "adjust", "adjust"]


def exact_of(entry: dict, key: str) -> str:
    return f"{entry[key]:.2f}"


@pytest.mark.parametrize("accept", MEDIA_TYPES)
def test_an_adjustment_never_takes_a_balance_below_zero(app, client, json_client, accept):
    created, _ = kohls_world(json_client)
    before = database_snapshot(app)
    response = client.post_json(f"/gift_cards/{created['id']}/adjust", {"amount": "-100.01", "reason": "x"},
                                headers={"Accept": accept}, status=409)
    assert "below_zero" in response.text
    assert database_snapshot(app) == before


def test_an_adjustment_never_takes_a_balance_below_what_its_holds_reserve(app, json_client):
    """0 <= available_balance always: a hold keeps its money from a correction as from a redemption."""
    created, _ = kohls_world(json_client)
    hold = json_client.post(f"/gift_cards/{created['id']}/authorize", {"amount": "80.00"}).json
    before = database_snapshot(app)
    response = adjust(json_client, created["id"], amount="-20.01", reason="x", status=409)
    assert logref(response) == "below_zero" and field_of(response) == "amount"
    assert "80.00 is held" in response.json["errors"][0]["message"]
    assert database_snapshot(app) == before
    assert adjust(json_client, created["id"], amount="-20.00", reason="x").json["balance_after"] == 80
    shown = json_client.get(f"/gift_cards/{created['id']}").json
    assert (shown["balance"], shown["available_balance"]) == (80, 0)
    json_client.post(f"/holds/{hold['id']}/capture", {})
    assert balance_of(json_client, created["id"]) == 0


@pytest.mark.parametrize("body, field", [({"amount": 5}, "reason"), ({"amount": 5, "reason": ""}, "reason"),
                                         ({"reason": "x"}, "amount"), ({"amount": 0, "reason": "x"}, "amount"),
                                         ({"amount": "1.001", "reason": "x"}, "amount"),
                                         ({"amount": 5, "reason": "x" * 201}, "reason")])
def test_bad_adjust_bodies_are_422_naming_the_field(app, json_client, body, field):
    created, _ = kohls_world(json_client)
    before = database_snapshot(app)
    assert field_of(adjust(json_client, created["id"], status=422, **body)) == field
    assert database_snapshot(app) == before


def test_an_adjustment_works_on_a_disabled_or_redeemed_card(json_client):
    created, _ = kohls_world(json_client, single_use=True)
    redeem(json_client, created["id"], amount=10)
    assert adjust(json_client, created["id"], amount=-5, reason="x").json["balance_after"] == 85
    adjust(json_client, 999, status=404, amount=1, reason="x")


def test_a_retry_with_the_same_key_replays_without_a_second_adjustment(json_client):
    created, _ = kohls_world(json_client)
    key = {"Idempotency-Key": "adjust-1"}
    first = adjust(json_client, created["id"], headers=key, amount=-10, reason="x")
    again = adjust(json_client, created["id"], headers=key, amount=-10, reason="x")
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert balance_of(json_client, created["id"]) == 90
    assert field_of(adjust(json_client, created["id"], status=422, headers=key, amount=-11, reason="x")) \
        == "Idempotency-Key"
    assert balance_of(json_client, created["id"]) == 90


def test_the_card_offers_adjust_in_every_media_type_and_rels_documents_it(client, json_client):
    created, _ = kohls_world(json_client)
    url = f"/gift_cards/{created['id']}"
    assert "fg:adjust" in client.get(url).json["_links"]
    siren = client.get(url, headers={"Accept": SIREN}).json
    [action] = [action for action in siren["actions"] if action["name"] == "adjust"]
    assert {field["name"] for field in action["fields"]} == {"amount", "reason"}
    html = client.get(url, headers={"Accept": "text/html"}).text
    assert f"{url}/adjust" in html and 'name="reason"' in html
    assert f"{url}/adjust" in client.get(url, headers={"Accept": "application/hal+xml"}).text
    options = client.options(f"{url}/adjust", headers={"Accept": "application/json"})
    assert "POST" in options.headers["Allow"] and "reason" in options.text
    assert "reason" in client.get("/rels/adjust", headers={"Accept": "text/html"}).text


def test_an_adjustment_from_an_html_form(client, json_client):
    created, _ = kohls_world(json_client)
    response = client.post(f"/gift_cards/{created['id']}/adjust", {"amount": "-2.50", "reason": "typo"},
                           headers={"Accept": "text/html"}, status=303)  # Post/Redirect/Get
    assert "typo" in response.follow(headers={"Accept": "text/html"}).text
    assert balance_of(json_client, created["id"]) == decimal.Decimal("97.50")
