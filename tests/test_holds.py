"""Authorization holds (issue 12): authorize reserves a card's available balance,
capture debits all or part (a redeem entry linked to the hold) and releases the
rest, void releases all, a hold past its deadline reserves nothing and cannot be
captured; idempotent with an Idempotency-Key; in every media type."""
from __future__ import annotations

import datetime

from api_helpers import database_snapshot
from auth_support import secured  # noqa: F401 (fixture)
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import (balance_of, card, entries_of, exact, field_of, issuer, kohls_world, logref,
                           product, redeem)

from flexigift.models import Hold

HAL = "application/hal+json"


def authorize(api, card_pk: int, status: int = 201, headers=None, **body):
    return api.post(f"/gift_cards/{card_pk}/authorize", body, status=status, headers=headers)


def available_of(api, card_pk: int):
    return exact(api.get(f"/gift_cards/{card_pk}"), "available_balance")


def lapse(app, hold_pk: int) -> None:
    """Move a hold's deadline into the past (as time passing would)."""
    with app.extensions["flexigift_db"].connection_context():
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
        Hold.update(deadline=past).where(Hold.id == hold_pk).execute()


def test_authorize_reserves_the_products_price_of_the_available_balance(json_client):
    created, _ = kohls_world(json_client)
    response = authorize(json_client, created["id"], product_id="kohls-dogbed-001", order_reference="o-1")
    hold = response.json
    assert response.headers["Location"] == f"http://localhost:3000/holds/{hold['id']}"
    assert (hold["amount"], hold["captured"], hold["status"], hold["order_reference"]) == (50, 0, "active", "o-1")
    assert balance_of(json_client, created["id"]) == 100
    assert available_of(json_client, created["id"]) == 50
    assert [entry["kind"] for entry in entries_of(json_client, created["id"])] == ["issue"]


def test_an_amount_without_a_product_and_a_hold_beyond_the_available_balance(app, json_client):
    created, _ = kohls_world(json_client)
    authorize(json_client, created["id"], amount="70.00")
    before = database_snapshot(app)
    response = authorize(json_client, created["id"], amount="30.01", status=409)
    assert logref(response) == "insufficient_balance" and field_of(response) == "amount"
    assert database_snapshot(app) == before
    authorize(json_client, created["id"], amount="30.00")
    assert available_of(json_client, created["id"]) == 0


def test_redeem_and_payment_options_use_the_available_balance(json_client):
    owner = json_client.post("/users", {"user_id": "user006"}).json
    created, bed = kohls_world(json_client, user_id="user006")
    authorize(json_client, created["id"], amount="60.00")
    assert logref(redeem(json_client, created["id"], status=409)) == "insufficient_balance"
    partial = redeem(json_client, created["id"], allow_partial=True).json
    assert partial["amount"] == -40
    options = json_client.client.get(f"/users/{owner['id']}/payment_options?product_id=kohls-dogbed-001",
                                     headers={"Accept": HAL}).json
    assert options["usable_cards"] == 0
    assert options["_embedded"]["fg:unusable_cards"][0]["reasons"] == ["empty"]


def test_a_redemption_beyond_what_holds_leave_says_what_is_held_and_writes_nothing(app, json_client):
    created, bed = kohls_world(json_client)  # 100.00 on the card, the bed costs 50.00
    authorize(json_client, created["id"], amount="60.00")
    before = database_snapshot(app)
    response = redeem(json_client, created["id"], status=409)
    assert logref(response) == "insufficient_balance" and field_of(response) == "amount"
    assert "holds 40.00 USD (60.00 of its 100.00 is held), less than 50.00" in response.json["errors"][0]["message"]
    assert database_snapshot(app) == before
    authorize(json_client, created["id"], amount="40.00")
    response = redeem(json_client, created["id"], status=409)
    assert logref(response) == "insufficient_balance" and "has no balance left" in response.json["errors"][0]["message"]
    assert database_snapshot(app) != before  # the second hold only
    assert balance_of(json_client, created["id"]) == 100 and available_of(json_client, created["id"]) == 0


def test_a_lapsed_hold_leaves_its_amount_to_redemptions(app, json_client):
    created, bed = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="80.00").json
    redeem(json_client, created["id"], status=409)
    lapse(app, hold["id"])
    assert redeem(json_client, created["id"]).json["balance_after"] == 50


def test_capture_part_debits_it_links_the_hold_and_releases_the_rest(json_client):
    created, bed = kohls_world(json_client)
    hold = authorize(json_client, created["id"], product_id="kohls-dogbed-001", order_reference="o-2").json
    response = json_client.post(f"/holds/{hold['id']}/capture", {"amount": "20.00"})
    entry = response.json
    assert (entry["kind"], entry["amount"], entry["balance_after"], entry["order_reference"]) == \
        ("redeem", -20, 80, "o-2")
    links = json_client.client.get(f"/transactions/{entry['id']}", headers={"Accept": HAL}).json["_links"]
    assert links["fg:hold"]["href"].endswith(f"/holds/{hold['id']}")
    assert links["fg:product"]["href"].endswith(f"/products/{bed['id']}")
    shown = json_client.client.get(f"/holds/{hold['id']}", headers={"Accept": HAL}).json
    assert (shown["status"], shown["captured"]) == ("captured", 20)
    assert "fg:capture" not in shown["_links"] and "fg:void" not in shown["_links"]
    assert balance_of(json_client, created["id"]) == available_of(json_client, created["id"]) == 80
    assert logref(json_client.post(f"/holds/{hold['id']}/capture", {}, status=409)) == "hold_captured"
    assert logref(json_client.post(f"/holds/{hold['id']}/void", {}, status=409)) == "hold_captured"
    # the capture is a redemption: it can be refunded as one
    json_client.post(f"/transactions/{entry['id']}/refund", {})
    assert balance_of(json_client, created["id"]) == 100


def test_capture_defaults_to_all_held_and_never_more(json_client):
    created, _ = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="30.00").json
    response = json_client.post(f"/holds/{hold['id']}/capture", {"amount": "30.01"}, status=409)
    assert logref(response) == "capture_exceeds_hold" and field_of(response) == "amount"
    assert json_client.post(f"/holds/{hold['id']}/capture", {}).json["amount"] == -30
    assert balance_of(json_client, created["id"]) == 70


def test_void_releases_the_hold(json_client):
    created, _ = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="30.00").json
    voided = json_client.post(f"/holds/{hold['id']}/void", {}, status=200).json
    assert (voided["status"], voided["captured"]) == ("voided", 0)
    assert available_of(json_client, created["id"]) == 100
    assert logref(json_client.post(f"/holds/{hold['id']}/capture", {}, status=409)) == "hold_voided"
    assert logref(json_client.post(f"/holds/{hold['id']}/void", {}, status=409)) == "hold_voided"


def test_a_hold_past_its_deadline_lapses_and_cannot_be_captured(app, json_client):
    created, _ = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="80.00").json
    lapse(app, hold["id"])
    assert json_client.get(f"/holds/{hold['id']}").json["status"] == "lapsed"
    assert available_of(json_client, created["id"]) == 100
    before = database_snapshot(app)
    assert logref(json_client.post(f"/holds/{hold['id']}/capture", {}, status=409)) == "hold_lapsed"
    assert database_snapshot(app) == before
    assert [h["id"] for h in json_client.get("/holds?status=lapsed").json] == [hold["id"]]
    assert json_client.get("/holds?status=active").json == []
    redeem(json_client, created["id"], amount="100.00")


def test_the_holds_collection_filters_and_a_card_links_its_holds(json_client):
    created, _ = kohls_world(json_client)
    other = card(json_client, card_id="kohls-gc-002")
    first = authorize(json_client, created["id"], amount="10.00", order_reference="A").json
    second = authorize(json_client, other["id"], amount="10.00", order_reference="B").json
    json_client.post(f"/holds/{second['id']}/void", {}, status=200)
    assert [h["id"] for h in json_client.get("/holds?order_reference=A").json] == [first["id"]]
    assert [h["id"] for h in json_client.get(f"/holds?gift_card={other['id']}").json] == [second["id"]]
    assert [h["id"] for h in json_client.get("/holds?status=voided").json] == [second["id"]]
    assert [h["id"] for h in json_client.get("/holds?card_id=kohls-gc-001").json] == [first["id"]]
    links = json_client.client.get(f"/gift_cards/{created['id']}", headers={"Accept": HAL}).json["_links"]
    assert links["fg:holds"]["href"].endswith(f"/gift_cards/{created['id']}/holds")
    assert links["fg:authorize"]["href"].endswith(f"/gift_cards/{created['id']}/authorize")
    own = json_client.get(f"/gift_cards/{created['id']}/holds").json
    assert [h["id"] for h in own] == [first["id"]]
    response = json_client.get("/holds?status=pending", status=400)
    assert logref(response) == "bad_filter"


def test_idempotent_authorize_capture_and_void(json_client):
    created, _ = kohls_world(json_client)
    key = {"Idempotency-Key": "hold-1"}
    first = authorize(json_client, created["id"], amount="10.00", headers=key)
    again = authorize(json_client, created["id"], amount="10.00", headers=key)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert available_of(json_client, created["id"]) == 90
    response = authorize(json_client, created["id"], amount="11.00", headers=key, status=422)
    assert field_of(response) == "Idempotency-Key"
    capture_key = {"Idempotency-Key": "capture-1"}
    entry = json_client.post(f"/holds/{first.json['id']}/capture", {}, headers=capture_key).json
    replay = json_client.post(f"/holds/{first.json['id']}/capture", {}, headers=capture_key)
    assert replay.json["id"] == entry["id"] and replay.status_int == 201
    assert balance_of(json_client, created["id"]) == 90
    second = authorize(json_client, created["id"], amount="5.00").json
    void_key = {"Idempotency-Key": "void-1"}
    json_client.post(f"/holds/{second['id']}/void", {}, status=200, headers=void_key)
    replay = json_client.post(f"/holds/{second['id']}/void", {}, status=200, headers=void_key)
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_cards_that_cannot_pay_are_refused_by_name(json_client):
    created, _ = kohls_world(json_client)
    json_client.patch(f"/gift_cards/{created['id']}", {"status": "disabled"})
    response = authorize(json_client, created["id"], amount="5.00", status=409)
    assert logref(response) == "card_disabled" and "kohls-gc-001" in response.json["errors"][0]["message"]
    hold_card = card(json_client, card_id="kohls-gc-002")
    hold = authorize(json_client, hold_card["id"], amount="5.00").json
    json_client.patch(f"/gift_cards/{hold_card['id']}", {"status": "disabled"})
    assert logref(json_client.post(f"/holds/{hold['id']}/capture", {}, status=409)) == "card_disabled"
    assert json_client.get(f"/holds/{hold['id']}").json["status"] == "active"


def test_bad_input_is_a_422_naming_the_field(json_client):
    created, _ = kohls_world(json_client)
    assert field_of(authorize(json_client, created["id"], status=422)) == "product_id"
    assert field_of(authorize(json_client, created["id"], amount="-1", status=422)) == "amount"
    assert field_of(authorize(json_client, created["id"], amount="1.001", status=422)) == "amount"
    assert field_of(authorize(json_client, created["id"], product_id="nope", status=422)) == "product_id"
    hold = authorize(json_client, created["id"], amount="5.00").json
    assert field_of(json_client.post(f"/holds/{hold['id']}/capture", {"amount": "x"}, status=422)) == "amount"
    json_client.post("/holds/999/capture", {}, status=404)
    json_client.post("/gift_cards/999/authorize", {"amount": "1"}, status=404)
    json_client.put(f"/holds/{hold['id']}", {}, status=405)
    json_client.delete(f"/holds/{hold['id']}", status=405)


def test_siren_html_and_options_offer_the_actions(client, json_client):
    created, _ = kohls_world(json_client)
    siren = client.get(f"/gift_cards/{created['id']}", headers={"Accept": SIREN}).json
    assert "authorize" in {action["name"] for action in siren["actions"]}
    assert siren["properties"]["available_balance"] == 100
    hold = authorize(json_client, created["id"], amount="5.00").json
    siren = client.get(f"/holds/{hold['id']}", headers={"Accept": SIREN}).json
    assert {action["name"] for action in siren["actions"]} == {"capture", "void"}
    html = client.get(f"/holds/{hold['id']}", headers={"Accept": "text/html"}).text
    assert f"/holds/{hold['id']}/capture" in html and f"/holds/{hold['id']}/void" in html
    card_html = client.get(f"/gift_cards/{created['id']}", headers={"Accept": "text/html"}).text
    assert "available_balance" in card_html and "/authorize" in card_html
    options = client.options(f"/gift_cards/{created['id']}/authorize", headers={"Accept": "application/json"})
    assert "POST" in options.headers["Allow"]
    for rel in ("holds", "hold", "authorize", "capture", "void"):
        client.get(f"/rels/{rel}", headers={"Accept": "text/html"})
    # an HTML form posts text: authorize, then void, as a browser would
    made = client.post(f"/gift_cards/{created['id']}/authorize", {"amount": "7.50", "product_id": ""},
                       headers={"Accept": "text/html"}, status=303)  # Post/Redirect/Get
    assert "7.5" in made.follow(headers={"Accept": "text/html"}).text
    held = json_client.get(f"/holds?gift_card={created['id']}&status=active").json
    assert sorted(h["amount"] for h in held) == [5, 7.5]
    bad = client.post(f"/gift_cards/{created['id']}/authorize", {"amount": "lots"},
                      headers={"Accept": "text/html"}, status=422)
    assert "amount" in bad.text


def test_check_ledger_checks_holds(app, json_client, database_url):
    from click.testing import CliRunner

    from flexigift.cli import main

    created, _ = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="60.00").json
    result = CliRunner().invoke(main, ["check-ledger", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    db = app.extensions["flexigift_db"]
    with db.connection_context():  # break both rules: more held than the balance, more captured than held
        Hold.update(amount=20_000, captured=30_000).where(Hold.id == hold["id"]).execute()
    result = CliRunner().invoke(main, ["check-ledger", "--database-url", database_url])
    assert result.exit_code == 1
    assert f"gift card {created['id']} (kohls-gc-001): holds reserve 200.00" in result.output
    assert f"hold {hold['id']}: captured 300.00 of 200.00 held" in result.output
    with db.connection_context():  # undo, so the after-test check sees sound holds again
        Hold.update(amount=6_000, captured=0).where(Hold.id == hold["id"]).execute()


def test_payment_options_show_the_available_balance(json_client):
    owner = json_client.post("/users", {"user_id": "user006"}).json
    created, _ = kohls_world(json_client, user_id="user006")
    authorize(json_client, created["id"], amount="70.00")
    options = json_client.client.get(f"/users/{owner['id']}/payment_options?product_id=kohls-dogbed-001",
                                     headers={"Accept": HAL}).json
    [option] = options["_embedded"]["fg:payment_options"]
    assert (option["balance"], option["available_balance"], option["amount"]) == (100, 30, 30)


def test_a_checkout_holds_or_orders_only_cards_it_may_spend(secured):  # noqa: F811
    """As with redeem: a card found by its code, or one linked to the user it names."""
    _, world, clients, _ = secured
    checkout, card_pk = clients["checkout"], world["kohls_card"]
    response = checkout.post(f"/gift_cards/{card_pk}/authorize", {"amount": "1.00"}, status=403)
    assert response.json["errors"][0]["logref"] == "possession_not_proved"
    response = checkout.post(f"/gift_cards/{card_pk}/authorize", {"amount": "1.00", "user_id": "user006"},
                             status=409)
    assert response.json["errors"][0]["logref"] == "not_the_users_card"
    checkout.post(f"/gift_cards/{card_pk}/authorize", {"amount": "1.00", "user_id": "user005"}, status=201)
    body = {"order_reference": "o-9", "amount": "1.00", "currency_code": "USD",
            "payments": [{"card_id": card_pk}]}
    checkout.post("/orders", body, status=403)
    assert checkout.post("/orders", {**body, "user_id": "user006"}, status=409) \
        .json["errors"][0]["logref"] == "not_the_users_card"
    checkout.post("/orders", {**body, "user_id": "user005"}, status=201)
    checkout.post("/orders", {**body, "payments": [{"card_id": world["gap_card"]}], "user_id": "user005"},
                  status=404)
