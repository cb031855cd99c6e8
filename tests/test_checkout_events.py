"""Events of the checkout (issue 13): holds authorized, captured, voided and lapsed;
orders created, captured, voided and refunded; cards that expire as their day
passes. Each is written in the transaction of its change, with the resource's
representation at that moment, and seen by the issuer whose cards it concerns."""
from __future__ import annotations

import datetime
import json
import threading
import time

import pytest
import webtest

from api_helpers import items_of
from auth_support import auth_app, close, make_token
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.events.deliverer import DeliverySettings, run
from flexigift.events.lapses import announce
from flexigift.events.signing import verify
from flexigift.models import Event, GiftCard
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, issuer, kohls_world, product, utc_today
from test_holds import authorize, lapse
from webhook_receiver import Receiver

SECRET = "a-secret-of-sixteen-or-more"


@pytest.fixture
def app(database_url):
    """The app with webhooks to loopback receivers allowed (the tests' receiver)."""
    application = create_app(Config(database_url=database_url, auth=False, webhooks_allow_private=True))
    yield application
    application.extensions["flexigift_db"].close_all()


def events_of(client, **filters) -> list[dict]:
    query = "&".join(f"{name}={value}" for name, value in {"limit": 300, **filters}.items())
    return items_of(client.get(f"/events?{query}"), "fg:events")


def types_of(client, **filters) -> list[str]:
    return [event["type"] for event in events_of(client, **filters)]


def three_cards(api) -> list[dict]:
    issuer(api)
    product(api)
    return [card(api, card_id=f"kohls-gc-00{n}", balance=balance) for n, balance in ((1, 30), (2, 100), (3, 50))]


def checkout_types(client) -> list[str]:
    return [kind for kind in types_of(client) if kind.split(".")[0] in ("hold", "order")
            or kind in ("card.redeemed", "card.refunded")]


def test_each_hold_change_is_an_event_with_the_hold_as_it_was(json_client):
    created, _ = kohls_world(json_client)
    hold = authorize(json_client, created["id"], amount="20.00", order_reference="o-1").json
    [authorized] = events_of(json_client, type="hold.authorized")
    assert authorized["representation"] == hold
    assert (authorized["resource"], authorized["resource_id"]) == ("hold", hold["id"])
    assert json_client.get(f"/events/{authorized['id']}").json["representation"]["status"] == "active"

    json_client.post(f"/holds/{hold['id']}/capture", {"amount": "5.00"})
    [captured] = events_of(json_client, type="hold.captured")
    assert captured["representation"] == json_client.get(f"/holds/{hold['id']}").json
    assert captured["representation"]["status"] == "captured"
    assert checkout_types(json_client) == ["hold.authorized", "card.redeemed", "hold.captured"]

    second = authorize(json_client, created["id"], amount="1.00").json
    json_client.post(f"/holds/{second['id']}/void", {}, status=200)
    [voided] = events_of(json_client, type="hold.voided")
    assert voided["representation"]["status"] == "voided" and voided["resource_id"] == second["id"]


def test_an_event_links_its_hold_and_its_order(json_client):
    hal = {"Accept": "application/hal+json"}
    a, b, _ = three_cards(json_client)
    authorize(json_client, a["id"], amount="2.00")
    json_client.post("/orders", {"order_reference": "o-7", "amount": "4.00", "currency_code": "USD",
                                 "payments": [{"card_id": b["id"]}]})
    for kind, rel in (("hold.authorized", "fg:hold"), ("order.created", "fg:order")):
        event = json_client.client.get(f"/events?type={kind}", headers=hal).json["_embedded"]["fg:events"][0]
        linked = json_client.client.get(event["_links"][rel]["href"], headers=hal).json
        assert linked["id"] == event["resource_id"]


def test_an_order_in_capture_mode_is_its_charges_then_its_creation(json_client):
    a, b, _ = three_cards(json_client)
    created = json_client.post("/orders", {"order_reference": "o-7", "amount": "40.00", "currency_code": "USD",
                                           "payments": [{"card_id": a["id"]}, {"card_id": b["id"]}]}).json
    assert checkout_types(json_client) == ["card.redeemed", "card.redeemed", "order.created"]
    [event] = events_of(json_client, type="order.created")
    assert event["representation"] == json_client.get(f"/orders/{created['id']}").json
    json_client.post(f"/orders/{created['id']}/refund", {"amount": "15.00"}, status=200)
    assert checkout_types(json_client)[3:] == ["card.refunded", "card.refunded", "order.refunded"]
    [refunded] = events_of(json_client, type="order.refunded")
    assert refunded["representation"]["status"] == "partially_refunded"


def test_an_authorized_order_is_held_then_captured_or_voided(json_client):
    a, b, c = three_cards(json_client)
    body = {"order_reference": "o-8", "amount": "40.00", "currency_code": "USD", "mode": "authorize",
            "payments": [{"card_id": a["id"]}, {"card_id": b["id"]}]}
    first = json_client.post("/orders", body).json
    assert checkout_types(json_client) == ["hold.authorized", "hold.authorized", "order.created"]
    json_client.post(f"/orders/{first['id']}/capture", {}, status=200)
    assert checkout_types(json_client)[3:] == ["card.redeemed", "hold.captured", "card.redeemed",
                                                "hold.captured", "order.captured"]
    second = json_client.post("/orders", {**body, "order_reference": "o-9",
                                          "payments": [{"card_id": c["id"]}]}).json
    json_client.post(f"/orders/{second['id']}/void", {}, status=200)
    assert checkout_types(json_client)[-3:] == ["order.created", "hold.voided", "order.voided"]
    [voided] = events_of(json_client, type="order.voided")
    assert voided["representation"]["status"] == "voided"


def test_an_order_refused_writes_no_event(json_client):
    a, b, _ = three_cards(json_client)
    before = types_of(json_client)
    json_client.post("/orders", {"order_reference": "o-1", "amount": "500.00", "currency_code": "USD",
                                 "mode": "authorize", "payments": [{"card_id": a["id"]}, {"card_id": b["id"]}]},
                     status=409)
    json_client.post(f"/gift_cards/{a['id']}/authorize", {"amount": "31.00"}, status=409)
    assert types_of(json_client) == before


def test_a_lapsed_hold_is_announced_once(app, json_client):
    created, _ = kohls_world(json_client)
    holds = [authorize(json_client, created["id"], amount="1.00").json for _ in range(3)]
    lapse(app, holds[0]["id"])
    lapse(app, holds[2]["id"])
    json_client.post(f"/holds/{holds[2]['id']}/void", {}, status=200)  # a lapsed hold can still be voided: no lapse event then
    db = app.extensions["flexigift_db"]
    assert announce(db) == 1
    assert announce(db) == 0
    [lapsed] = events_of(json_client, type="hold.lapsed")
    assert lapsed["resource_id"] == holds[0]["id"]
    assert lapsed["representation"]["status"] == "lapsed"
    assert lapsed["actor"] == {"name": "system", "role": "admin"}


def _expire(app, card_pk: int, days_ago: int) -> None:
    """Move a card's expiry day into the past, as time passing would (no request, no event)."""
    with app.extensions["flexigift_db"].connection_context():
        day = utc_today() - datetime.timedelta(days=days_ago)
        GiftCard.update(expiry_date=day).where(GiftCard.id == card_pk).execute()


def test_a_card_whose_day_passes_is_announced_expired_once_per_expiry(app, json_client):
    created, _ = kohls_world(json_client)
    other = card(json_client, card_id="kohls-gc-002")
    db = app.extensions["flexigift_db"]
    assert announce(db) == 0
    _expire(app, created["id"], days_ago=10)
    assert announce(db) == 1 and announce(db) == 0
    [expired] = events_of(json_client, type="card.expired")
    assert expired["resource_id"] == created["id"] and expired["representation"]["status"] == "expired"
    # announced ten days ago; since then extended, and past its new day again: a second announcement
    with db.connection_context():
        Event.update(date_created=datetime.datetime.now() - datetime.timedelta(days=9)).where(
            Event.id == expired["id"]).execute()
    _expire(app, created["id"], days_ago=2)
    assert announce(db) == 1
    # a PATCH into the past announces it itself; the sweep does not repeat it
    yesterday = (utc_today() - datetime.timedelta(days=1)).isoformat()
    json_client.patch(f"/gift_cards/{other['id']}", {"expiry_date": yesterday})
    assert announce(db) == 0
    assert [event["resource_id"] for event in events_of(json_client, type="card.expired")] == [
        created["id"], created["id"], other["id"]]


def test_a_disabled_card_past_its_day_is_not_announced(app, json_client):
    created, _ = kohls_world(json_client)
    json_client.patch(f"/gift_cards/{created['id']}", {"status": "disabled"})
    _expire(app, created["id"], days_ago=3)
    assert announce(app.extensions["flexigift_db"]) == 0


def test_an_issuer_sees_the_checkout_events_of_its_own_cards(database_url):
    app = auth_app(database_url)
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        admin = {"Authorization": f"Bearer {make_token(app, 'admin')}", "Accept": "application/json"}
        cards = {}
        for name in ("Kohls", "Gap"):
            client.post_json("/issuers", {"name": name, "currency_code": "USD"}, headers=admin)
            cards[name] = client.post_json("/gift_cards", {"card_id": f"{name}-1", "issuer": name,
                                                           "balance": 50}, headers=admin).json
        client.post_json(f"/gift_cards/{cards['Gap']['id']}/authorize", {"amount": "5.00"}, headers=admin)
        client.post_json("/orders", {"order_reference": "o-1", "amount": "3.00", "currency_code": "USD",
                                     "payments": [{"card_id": cards["Kohls"]["id"]}]}, headers=admin)
        client.post_json("/orders", {"order_reference": "o-2", "amount": "4.00", "currency_code": "USD",
                                     "payments": [{"card_id": cards["Kohls"]["id"], "amount": "2.00"},
                                                  {"card_id": cards["Gap"]["id"], "amount": "2.00"}]},
                         headers=admin)
        seen = {}
        for name in ("Kohls", "Gap"):
            token = {"Authorization": f"Bearer {make_token(app, f'issuer:{name}')}", "Accept": "application/json"}
            seen[name] = [(event["type"], event["representation"].get("order_reference"))
                          for event in client.get("/events?limit=100", headers=token).json
                          if event["type"].split(".")[0] in ("hold", "order")]
        assert seen["Gap"] == [("hold.authorized", None)]
        # an order paid by one issuer's cards is that issuer's; one paid by two issuers' is an admin's
        assert seen["Kohls"] == [("order.created", "o-1")]
        everything = client.get("/events?type=order.*", headers=admin).json
        assert [event["representation"]["order_reference"] for event in everything] == ["o-1", "o-2"]
    finally:
        close(app)


def test_the_deliverer_announces_a_lapse_and_delivers_it_signed(app, json_client):
    created, _ = kohls_world(json_client)
    with Receiver() as receiver:
        json_client.post("/webhooks", {"url": receiver.url, "event_types": ["hold.*", "order.*"],
                                       "secret": SECRET})
        hold = authorize(json_client, created["id"], amount="2.00").json
        lapse(app, hold["id"])
        stop = threading.Event()
        settings = DeliverySettings(timeout=0.5, backoff=0.0, poll_interval=0.05, sweep_interval=0.05,
                                    allow_private=True)
        worker = threading.Thread(target=run, args=(app.extensions["flexigift_db"], settings, stop))
        worker.start()
        try:
            for _ in range(200):
                if len(receiver.received) >= 2:
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join(10)
        received = [json.loads(message["body"]) for message in receiver.received]
        assert [event["type"] for event in received] == ["hold.authorized", "hold.lapsed"]
        assert all(verify(SECRET, message["body"], message["headers"]["Flexigift-Signature"])
                   for message in receiver.received)
        assert received[1]["representation"] == json_client.get(f"/holds/{hold['id']}").json
