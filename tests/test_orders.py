"""Orders paid by several cards (issue 12): all or nothing, 409 naming the card that
could not pay; capture, void and refund in the reverse order of charging; the
acceptance story of a checkout."""
from __future__ import annotations

from api_helpers import database_snapshot
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, card, entries_of, exact, field_of, issuer, logref, product, user

HAL = "application/hal+json"


def world(api, balances=(30, 100, 50)) -> list[dict]:
    issuer(api)
    product(api)
    return [card(api, card_id=f"kohls-gc-00{n}", balance=balance) for n, balance in enumerate(balances, 1)]


def order(api, cards, status=201, headers=None, **body):
    body.setdefault("order_reference", "order-1")
    body.setdefault("currency_code", "USD")
    body.setdefault("payments", [{"card_id": c["id"]} for c in cards])
    return api.post("/orders", body, status=status, headers=headers)


def hal(api, url):
    return api.client.get(url, headers={"Accept": HAL}).json


def ledger(api, c):
    return [(entry["kind"], entry["amount"]) for entry in entries_of(api, c["id"])]


def test_home_links_orders(json_client):
    assert hal(json_client, "/")["_links"]["fg:orders"]["href"].endswith("/orders")


def test_payments_without_amounts_fill_from_the_cards_in_order(json_client):
    a, b, c = world(json_client)
    created = order(json_client, [a, b, c], amount="80.00").json
    assert (created["status"], created["paid"], created["held"]) == ("paid", 80, 0)
    assert ledger(json_client, a) == [("issue", 30), ("redeem", -30)]
    assert ledger(json_client, b) == [("issue", 100), ("redeem", -50)]
    assert ledger(json_client, c) == [("issue", 50)]
    links = hal(json_client, f"/orders/{created['id']}")["_links"]
    assert len(links["fg:transaction"]) == 2 and "fg:hold" not in links


def test_explicit_amounts_and_a_product(json_client):
    a, b, _ = world(json_client)
    created = order(json_client, [], product_id="kohls-dogbed-001", currency_code=None,
                    payments=[{"card_id": b["id"], "amount": "45.00"}, {"card_id": a["id"], "amount": "5.00"}]).json
    assert (created["amount"], created["paid"]) == (50, 50)
    assert balance_of(json_client, a["id"]) == 25 and balance_of(json_client, b["id"]) == 55


def test_all_or_nothing_with_a_409_naming_the_card(app, json_client):
    a, b, c = world(json_client)
    json_client.patch(f"/gift_cards/{c['id']}", {"status": "disabled"})
    before = database_snapshot(app)
    response = order(json_client, [a, b, c], amount="140.00", status=409)
    assert logref(response) == "card_disabled" and "kohls-gc-003" in response.json["errors"][0]["message"]
    response = order(json_client, [a, b], amount="140.00", status=409)
    assert logref(response) == "insufficient_balance" and "kohls-gc-002" in response.json["errors"][0]["message"]
    response = order(json_client, [], payments=[{"card_id": a["id"], "amount": "31.00"},
                                                {"card_id": b["id"], "amount": "1.00"}], amount="32.00", status=409)
    assert "kohls-gc-001" in response.json["errors"][0]["message"]
    assert database_snapshot(app) == before


def test_authorize_mode_holds_and_the_order_captures_voids_and_refunds(json_client):
    a, b, _ = world(json_client)
    created = order(json_client, [a, b], amount="60.00", mode="authorize").json
    assert (created["status"], created["held"], created["paid"]) == ("authorized", 60, 0)
    assert exact(json_client.get(f"/gift_cards/{b['id']}"), "available_balance") == 70
    captured = json_client.post(f"/orders/{created['id']}/capture", {}, status=200).json
    assert (captured["status"], captured["held"], captured["paid"]) == ("paid", 0, 60)
    assert logref(json_client.post(f"/orders/{created['id']}/void", {}, status=409)) == "nothing_held"
    refunded = json_client.post(f"/orders/{created['id']}/refund", {"amount": "40.00"}, status=200).json
    assert (refunded["status"], refunded["refunded"]) == ("partially_refunded", 40)
    # the reverse order of charging: b (charged last) first, never more than it paid
    assert ledger(json_client, b) == [("issue", 100), ("redeem", -30), ("refund", 30)]
    assert ledger(json_client, a) == [("issue", 30), ("redeem", -30), ("refund", 10)]
    response = json_client.post(f"/orders/{created['id']}/refund", {"amount": "20.01"}, status=409)
    assert logref(response) == "refund_exceeds_redemption"
    done = json_client.post(f"/orders/{created['id']}/refund", {}, status=200).json
    assert done["status"] == "refunded"
    assert logref(json_client.post(f"/orders/{created['id']}/refund", {}, status=409)) == "fully_refunded"


def test_void_an_authorized_order(json_client):
    a, b, _ = world(json_client)
    created = order(json_client, [a, b], amount="60.00", mode="authorize").json
    voided = json_client.post(f"/orders/{created['id']}/void", {}, status=200).json
    assert (voided["status"], voided["held"]) == ("voided", 0)
    assert exact(json_client.get(f"/gift_cards/{a['id']}"), "available_balance") == 30
    assert logref(json_client.post(f"/orders/{created['id']}/capture", {}, status=409)) == "nothing_held"


def test_idempotent_create_and_refund(json_client):
    a, b, _ = world(json_client)
    key = {"Idempotency-Key": "order-key"}
    first = order(json_client, [a, b], amount="40.00", headers=key)
    again = order(json_client, [a, b], amount="40.00", headers=key)
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert balance_of(json_client, a["id"]) == 0 and balance_of(json_client, b["id"]) == 90
    assert field_of(order(json_client, [a, b], amount="41.00", headers=key, status=422)) == "Idempotency-Key"
    refund_key = {"Idempotency-Key": "refund-key"}
    json_client.post(f"/orders/{first.json['id']}/refund", {"amount": "5.00"}, status=200, headers=refund_key)
    json_client.post(f"/orders/{first.json['id']}/refund", {"amount": "5.00"}, status=200, headers=refund_key)
    assert balance_of(json_client, b["id"]) == 95


def test_bad_orders_are_422_naming_the_field(json_client):
    a, b, _ = world(json_client)
    assert field_of(order(json_client, [a], amount=None, status=422)) == "amount"
    assert field_of(order(json_client, [a], amount="1", currency_code=None, status=422)) == "currency_code"
    assert field_of(order(json_client, [a, a], amount="1", status=422)) == "payments"
    assert field_of(order(json_client, [], amount="1", payments=[], status=422)) == "payments"
    assert field_of(order(json_client, [], amount="1", payments=[{"card_id": "x"}], status=422)) \
        == "payments.0.card_id"
    assert field_of(order(json_client, [a], amount="1", mode="later", status=422)) == "mode"
    assert field_of(order(json_client, [a], amount="1", currency_code="XYZ", status=422)) == "currency_code"
    assert field_of(order(json_client, [], amount="1", status=422,
                          payments=[{"card_id": a["id"], "amount": "2"}])) == "payments"
    json_client.post("/orders", {"order_reference": "x", "amount": "1", "currency_code": "USD",
                                 "payments": [{"card_id": 999}]}, status=404)
    response = order(json_client, [a], amount="1", currency_code="EUR", status=409)
    assert logref(response) == "currency_mismatch"
    json_client.post("/orders/999/refund", {}, status=404)


def test_orders_in_every_media_type_with_actions(client, json_client):
    a, b, _ = world(json_client)
    created = order(json_client, [a, b], amount="60.00", mode="authorize").json
    siren = client.get(f"/orders/{created['id']}", headers={"Accept": SIREN}).json
    assert {action["name"] for action in siren["actions"]} == {"capture", "void"}
    html = client.get(f"/orders/{created['id']}", headers={"Accept": "text/html"}).text
    assert f"/orders/{created['id']}/capture" in html and f"/orders/{created['id']}/void" in html
    collection = client.get("/orders", headers={"Accept": SIREN}).json
    assert "create" in {action["name"] for action in collection["actions"]}
    allow = client.options("/orders", headers={"Accept": "application/json"}).headers["Allow"]
    assert "POST" in allow
    for rel in ("orders", "order"):
        client.get(f"/rels/{rel}", headers={"Accept": "text/html"})
    # an HTML form's payments: card_id:amount, comma-separated
    response = client.post("/orders", {"order_reference": "form", "amount": "10.00", "currency_code": "USD",
                                       "payments": f"{b['id']}:10.00"},
                           headers={"Accept": "application/json"}, status=201)
    assert response.json["paid"] == 10


def test_acceptance_a_checkout_authorizes_two_cards_captures_part_voids_the_rest_and_refunds(json_client):
    """Look up the shopper's cards, authorize an order across two, capture part after
    shipping, void the rest, refund the order: each card's ledger tells exactly that."""
    issuer(json_client)
    product(json_client)
    shopper = user(json_client)
    first = card(json_client, card_id="kohls-gc-001", balance=40, user_id=shopper["user_id"])
    second = card(json_client, card_id="kohls-gc-002", balance=100, user_id=shopper["user_id"])
    cards = json_client.get(f"/users/{shopper['id']}/gift_cards").json
    assert [c["card_id"] for c in cards] == ["kohls-gc-001", "kohls-gc-002"]
    created = order(json_client, cards, amount="90.00", mode="authorize", order_reference="ship-1").json
    holds = json_client.get(f"/holds?order_reference=ship-1").json
    assert [(h["amount"], h["status"]) for h in holds] == [(40, "active"), (50, "active")]
    json_client.post(f"/holds/{holds[0]['id']}/capture", {"amount": "25.00"})  # what shipped
    json_client.post(f"/orders/{created['id']}/void", {}, status=200)  # the rest
    shown = json_client.get(f"/orders/{created['id']}").json
    assert (shown["status"], shown["paid"], shown["held"]) == ("paid", 25, 0)
    json_client.post(f"/orders/{created['id']}/refund", {}, status=200)
    assert ledger(json_client, first) == [("issue", 40), ("redeem", -25), ("refund", 25)]
    assert ledger(json_client, second) == [("issue", 100)]
    assert [h["status"] for h in json_client.get(f"/holds?order_reference=ship-1").json] == ["captured", "voided"]
    assert json_client.get(f"/orders/{created['id']}").json["status"] == "refunded"
    assert balance_of(json_client, first["id"]) == 40 and balance_of(json_client, second["id"]) == 100


def test_an_order_whose_holds_lapsed_cannot_be_captured(app, json_client):
    import datetime

    from flexigift.models import Hold

    a, b, _ = world(json_client)
    created = order(json_client, [a, b], amount="60.00", mode="authorize").json
    with app.extensions["flexigift_db"].connection_context():
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
        Hold.update(deadline=past).where(Hold.order == created["id"]).execute()
    shown = json_client.get(f"/orders/{created['id']}").json
    assert (shown["held"], shown["status"]) == (0, "voided")
    assert logref(json_client.post(f"/orders/{created['id']}/capture", {}, status=409)) == "nothing_held"
    json_client.post(f"/orders/{created['id']}/void", {}, status=200)
    assert [h["status"] for h in json_client.get(f"/holds?order_id={created['id']}").json] == ["voided", "voided"]
    assert balance_of(json_client, a["id"]) == 30 and balance_of(json_client, b["id"]) == 100
