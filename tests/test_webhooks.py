"""Webhooks (issue 13): subscriptions, their deliveries, and the deliverer POSTing
signed events to a real receiver on a loopback port, in order, once, with retries."""
from __future__ import annotations

import json

import pytest
import webtest

from api_helpers import errors_of
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.events.deliverer import DeliverySettings, deliver_due
from flexigift.events.signing import verify
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import kohls_world, redeem, user
from webhook_receiver import Receiver

SECRET = "a-secret-of-sixteen-or-more"
#: Fast retries for the tests: no backoff, a short timeout.
FAST = DeliverySettings(timeout=0.5, backoff=0.0, max_attempts=3, pause_after=10, allow_private=True)


@pytest.fixture
def app(database_url):
    application = create_app(Config(database_url=database_url, auth=False, webhooks_allow_private=True))
    yield application
    application.extensions["flexigift_db"].close_all()


def deliver(app, settings: DeliverySettings = FAST) -> int:
    return deliver_due(app.extensions["flexigift_db"], settings)


def subscribe(json_client, url, event_types=("card.*",), status=201, **fields):
    body = {"url": url, "event_types": list(event_types), "secret": SECRET, **fields}
    return json_client.post("/webhooks", body, status=status)


def deliveries_of(json_client, webhook) -> list[dict]:
    return json_client.get(f"/webhooks/{webhook['id']}/deliveries").json


def test_subscribed_card_events_arrive_signed_and_match_get_of_the_entry(app, json_client):
    created, _ = kohls_world(json_client)
    with Receiver() as receiver:
        webhook = subscribe(json_client, receiver.url + "/hook").json
        entry = redeem(json_client, created["id"]).json
        user(json_client)  # not a card event: not delivered
        assert deliver(app) == 1
        [received] = receiver.received
    body, headers = received["body"], received["headers"]
    assert verify(SECRET, body, headers["Flexigift-Signature"])
    assert not verify("another secret entirely", body, headers["Flexigift-Signature"])
    assert headers["Content-Type"] == "application/hal+json"
    event = json.loads(body)
    assert headers["Flexigift-Event-Type"] == event["type"] == "card.redeemed"
    assert headers["Flexigift-Event-Id"] == str(event["id"])
    assert event["representation"] == json_client.get(f"/transactions/{entry['id']}").json
    [delivery] = deliveries_of(json_client, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 1, 200)


def test_events_arrive_in_order_and_once(app, json_client):
    with Receiver() as receiver:
        subscribe(json_client, receiver.url, event_types=["*"])
        owner = user(json_client)
        created, _ = kohls_world(json_client, balance=500)
        for _ in range(3):
            redeem(json_client, created["id"])
        json_client.patch(f"/users/{owner['id']}", {"name": "Steve"})
        assert deliver(app) == 8
        assert deliver(app) == 0
        expected = [event["id"] for event in json_client.get("/events?limit=100").json]
        assert receiver.event_ids() == expected


def test_a_receiver_answering_500_then_200_gets_the_retry(app, json_client):
    with Receiver(answers=[500]) as receiver:
        webhook = subscribe(json_client, receiver.url).json
        kohls_world(json_client)
        deliver(app)
        assert len(receiver.received) == 2
        assert receiver.received[0]["headers"]["Flexigift-Event-Id"] == \
            receiver.received[1]["headers"]["Flexigift-Event-Id"]
    [delivery] = deliveries_of(json_client, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 2, 200)


def test_a_hanging_receiver_is_timed_out_and_retried_later(app, json_client):
    with Receiver(answers=["hang"], hang_seconds=3) as receiver:
        webhook = subscribe(json_client, receiver.url).json
        kohls_world(json_client)
        deliver(app, DeliverySettings(timeout=0.3, backoff=3600, allow_private=True))
        [delivery] = deliveries_of(json_client, webhook)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, None)
    assert "no answer" in delivery["last_error"] and delivery["next_attempt_at"] is not None


def test_a_later_event_waits_for_the_one_before_it(app, json_client):
    with Receiver(answers=[500]) as receiver:
        webhook = subscribe(json_client, receiver.url).json
        created, _ = kohls_world(json_client)
        redeem(json_client, created["id"])
        deliver(app, DeliverySettings(backoff=3600, allow_private=True))
        assert len(receiver.received) == 1  # the issue failed; the redemption waits behind it
        statuses = [delivery["status"] for delivery in deliveries_of(json_client, webhook)]
    assert statuses == ["pending", "pending"]


def test_after_the_last_retry_a_delivery_fails_and_the_subscription_pauses(app, json_client):
    settings = DeliverySettings(backoff=0.0, max_attempts=2, pause_after=2, allow_private=True)
    with Receiver(answers=[500, 500]) as receiver:
        webhook = subscribe(json_client, receiver.url).json
        created, _ = kohls_world(json_client)
        deliver(app, settings)
        [delivery] = deliveries_of(json_client, webhook)
        assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("failed", 2, 500)
        paused = json_client.get(f"/webhooks/{webhook['id']}").json
        assert paused["status"] == "paused" and "2 failed deliveries" in paused["paused_reason"]
        json_client.post(f"/deliveries/{delivery['id']}/redeliver", {}, status=200)
        redeem(json_client, created["id"])
        assert deliver(app, settings) == 0  # paused: nothing goes out
        json_client.patch(f"/webhooks/{webhook['id']}", {"status": "active"})
        assert deliver(app, settings) == 2
        assert [event["type"] for event in receiver.events()][-2:] == ["card.issued", "card.redeemed"]
    assert [d["status"] for d in deliveries_of(json_client, webhook)] == ["delivered", "delivered"]


def test_the_secret_is_never_shown_whole(json_client):
    webhook = subscribe(json_client, "http://127.0.0.1:9/hook").json
    assert webhook["secret"] != SECRET and webhook["secret"].endswith(SECRET[-4:])
    read = json_client.get(f"/webhooks/{webhook['id']}").json
    json_client.put(f"/webhooks/{webhook['id']}", {k: read[k] for k in ("url", "event_types", "secret")})
    assert SECRET.encode() not in json_client.get("/webhooks").body


@pytest.mark.parametrize("url, wanted", [
    ("ftp://example.com/hook", "http"),
    ("http://user:password@example.com/hook", "credentials"),
    ("http://127.0.0.1:8000/hook", "private"),
    ("http://10.1.2.3/hook", "private"),
    ("http://169.254.169.254/latest", "private"),
    ("http://[::1]/hook", "private"),
    ("not a url", "http"),
])
def test_targets_are_checked(database_url, url, wanted):
    app = create_app(Config(database_url=database_url, auth=False))
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        response = client.post_json("/webhooks", {"url": url, "event_types": ["*"], "secret": SECRET},
                                    headers={"Accept": "application/json"}, status=422)
        [error] = errors_of(response)
        assert error["field"] == "url" and wanted in error["message"]
    finally:
        app.extensions["flexigift_db"].close_all()


def test_unknown_event_types_and_short_secrets_are_refused(json_client):
    response = json_client.post("/webhooks", {"url": "http://127.0.0.1/", "event_types": ["card.exploded"],
                                              "secret": "short"}, status=422)
    assert {error["field"] for error in errors_of(response)} == {"event_types", "secret"}


def test_an_issuers_subscription_sees_only_its_own_events(database_url):
    from auth_support import auth_app, close, make_token
    app = auth_app(database_url, webhooks_allow_private=True)
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        admin = {"Authorization": f"Bearer {make_token(app, 'admin')}", "Accept": "application/json"}
        for name in ("Kohls", "Gap"):
            client.post_json("/issuers", {"name": name, "currency_code": "USD"}, headers=admin)
        gap = {"Authorization": f"Bearer {make_token(app, 'issuer:Gap')}", "Accept": "application/json"}
        kohls = {"Authorization": f"Bearer {make_token(app, 'issuer:Kohls')}", "Accept": "application/json"}
        with Receiver() as receiver:
            body = {"url": receiver.url, "event_types": ["*"], "secret": SECRET}
            hook = client.post_json("/webhooks", body, headers=gap).json
            everything = client.post_json("/webhooks", {**body, "url": receiver.url + "/admin"},
                                          headers=admin).json
            for name in ("Kohls", "Gap"):
                client.post_json("/gift_cards", {"card_id": f"{name}-1", "issuer": name, "balance": 5},
                                 headers=admin)
            deliver(app)
            assert [e["representation"]["card_id"] for e in receiver.events("/")] == ["Gap-1"]
            assert len(receiver.events("/admin")) == 2
        assert [w["id"] for w in client.get("/webhooks", headers=gap).json] == [hook["id"]]
        client.get(f"/webhooks/{everything['id']}", headers=gap, status=404)
        client.get(f"/webhooks/{hook['id']}", headers=kohls, status=404)
        client.get(f"/webhooks/{hook['id']}/deliveries", headers=kohls, status=404)
        client.delete(f"/webhooks/{hook['id']}", headers=kohls, status=404)
        checkout = {"Authorization": f"Bearer {make_token(app, 'checkout')}", "Accept": "application/json"}
        client.get("/webhooks", headers=checkout, status=403)
    finally:
        close(app)


def test_deleting_a_subscription_drops_its_deliveries(app, json_client):
    webhook = subscribe(json_client, "http://127.0.0.1:9/hook").json
    kohls_world(json_client)
    json_client.delete(f"/webhooks/{webhook['id']}")
    json_client.get(f"/webhooks/{webhook['id']}/deliveries", status=404)


def test_the_readmes_verification_example_accepts_a_real_delivery(app, json_client):
    import textwrap
    from servers import REPOSITORY
    readme = (REPOSITORY / "README.rst").read_text()
    snippet = readme.split("Verify a delivery before trusting it::", 1)[1].split("Pass the raw", 1)[0]
    namespace: dict = {}
    exec(textwrap.dedent(snippet), namespace)  # noqa: S102 (our own README)
    with Receiver() as receiver:
        subscribe(json_client, receiver.url)
        kohls_world(json_client)
        deliver(app)
        [received] = receiver.received
    header = received["headers"]["Flexigift-Signature"]
    assert namespace["verify"](SECRET, received["body"], header)
    assert not namespace["verify"](SECRET, received["body"] + b" ", header)
