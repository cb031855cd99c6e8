"""The event log (issue 13): every change that matters is an event written in the
transaction of the change, read through ``/events`` like any other collection."""
from __future__ import annotations

import pytest

from api_helpers import api, items_of  # noqa: F401 (fixture)
from flexigift import events
from flexigift.models import Delivery, Event
from flexigift.services import redemptions
from flexigift.services.ledger import Product
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, issuer, kohls_world, product, redeem, user


def types_of(api, **filters) -> list[str]:
    query = "&".join(f"{name}={value}" for name, value in {"limit": 300, **filters}.items())
    return [event["type"] for event in items_of(api.get(f"/events?{query}"), "fg:events")]


def test_each_change_is_an_event_in_order(api):
    owner = user(api)
    created, _ = kohls_world(api, balance=100)
    api.patch(f"/users/{owner['id']}", {"gift_cards": [created["card_id"]]})
    api.patch(f"/gift_cards/{created['id']}", {"status": "disabled"})
    api.patch(f"/gift_cards/{created['id']}", {"status": "active"})
    redeemed = redeem(api, created["id"]).json
    api.post(f"/transactions/{redeemed['id']}/refund", {"amount": "10.00"})
    api.post(f"/gift_cards/{created['id']}/reload", {"amount": "5.00"})
    assert types_of(api) == ["user.created", "issuer.created", "card.issued", "product.created",
                             "card.linked", "user.changed", "card.disabled", "card.enabled",
                             "card.redeemed", "card.refunded", "card.reloaded"]


def test_home_links_the_event_log(api):
    home = api.get("/")
    if "_links" in home.json:
        assert home.json["_links"]["fg:events"]["href"].endswith("/events")


def test_a_redeemed_events_representation_is_what_get_of_the_entry_shows(json_client):
    created, _ = kohls_world(json_client)
    entry = redeem(json_client, created["id"]).json
    [event] = items_of(json_client.get("/events?type=card.redeemed"), "fg:events")
    assert event["representation"] == json_client.get(f"/transactions/{entry['id']}").json == entry
    assert (event["resource"], event["resource_id"]) == ("transaction", entry["id"])
    assert event["actor"]["role"] == "admin"


def test_type_filter_takes_a_wildcard(api):
    kohls_world(api)
    assert types_of(api, type="card.*") == ["card.issued"]
    assert types_of(api, resource="product") == ["product.created"]


def test_events_are_paginated(client):
    for number in range(3):
        client.post_json("/users", {"user_id": f"user{number}"}, headers={"Accept": "application/json"})
    page = client.get("/events?limit=2", headers={"Accept": "application/hal+json"}).json
    assert page["returned_items"] == 2 and page["total_items"] == 3
    assert "next" in page["_links"]


@pytest.mark.parametrize("accept", ["application/hal+xml", "application/vnd.siren+json", "text/html"])
def test_events_render_in_every_media_type(client, accept):
    client.post_json("/users", {"user_id": "user1"}, headers={"Accept": "application/json"})
    assert client.get("/events", headers={"Accept": accept}).status_int == 200
    assert client.get("/events/1", headers={"Accept": accept}).status_int == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_event_is_immutable(client, method):
    client.post_json("/users", {"user_id": "user1"}, headers={"Accept": "application/json"})
    response = getattr(client, method)("/events/1", headers={"Accept": "application/json"}, status=405)
    assert "GET" in response.headers["Allow"]
    assert client.post_json("/events", {}, status=405).status_int == 405


def test_a_refused_change_writes_no_event(api):
    created, _ = kohls_world(api, balance=10)
    before = types_of(api)
    redeem(api, created["id"], status=409)
    assert types_of(api) == before


def test_a_rolled_back_change_leaves_no_event(app, json_client):
    created, bed = kohls_world(json_client)
    db = app.extensions["flexigift_db"]
    with app.app_context(), db.connection_context():
        count = Event.select().count()
        with pytest.raises(RuntimeError):
            with db.atomic():
                redemptions.redeem(created["id"], Product.get_by_id(bed["id"]))
                assert Event.select().count() == count + 1
                raise RuntimeError("the change fails after its event was written")
        assert Event.select().count() == count
        assert Delivery.select().count() == 0


def test_record_event_is_one_call_for_other_services(app):
    db = app.extensions["flexigift_db"]
    with app.app_context(), db.connection_context(), db.atomic():
        pk = events.record_event("hold.authorized", ("hold", 7), {"amount": 5}, issuer_id=None)
    with app.app_context(), db.connection_context():
        assert Event.get_by_id(pk).type == "hold.authorized"


def test_an_issuer_sees_only_its_own_events(database_url):
    from auth_support import auth_app, close, make_token
    import webtest
    app = auth_app(database_url)
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        admin = {"Authorization": f"Bearer {make_token(app, 'admin')}", "Accept": "application/json"}
        for name in ("Kohls", "Gap"):
            client.post_json("/issuers", {"name": name, "currency_code": "USD"}, headers=admin)
            client.post_json("/gift_cards", {"card_id": f"{name}-1", "issuer": name, "balance": 5},
                             headers=admin)
        gap = {"Authorization": f"Bearer {make_token(app, 'issuer:Gap')}", "Accept": "application/json"}
        seen = client.get("/events", headers=gap).json
        assert [(event["type"], event["resource"]) for event in seen] == [
            ("issuer.created", "issuer"), ("card.issued", "gift_card")]
        first = client.get("/events?type=issuer.created", headers=admin).json[0]
        client.get(f"/events/{first['id']}", headers=gap, status=404)
        checkout = {"Authorization": f"Bearer {make_token(app, 'checkout')}", "Accept": "application/json"}
        client.get("/events", headers=checkout, status=403)
    finally:
        close(app)


def test_bulk_issued_cards_each_have_an_event(api):
    created = issuer(api)
    api.post(f"/issuers/{created['id']}/bulk_create", {"card_ids": ["a-1", "a-2"], "balance": "5.00"})
    assert types_of(api, type="card.issued") == ["card.issued", "card.issued"]


def test_a_card_set_to_expire_in_the_past_is_expired(api):
    import datetime
    created, _ = kohls_world(api)
    yesterday = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)).isoformat()
    api.patch(f"/gift_cards/{created['id']}", {"expiry_date": yesterday})
    assert types_of(api, type="card.*")[-1] == "card.expired"
