"""The deliverer ``flexigift serve`` runs in its own process (issue 13): with several
granian worker processes serving (forked after the deliverer's thread started), every
redemption made through any of them reaches a subscriber, signed, once."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import warnings

from flexigift.events.deliverer import DeliverySettings, start_thread
from flexigift.events.signing import verify
from money_helpers import DOG_BED, KOHLS
from servers import flexigift_serve
from webhook_receiver import Receiver

SECRET = "a-secret-of-sixteen-or-more"


def _wait_for(receiver: Receiver, count: int, seconds: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(receiver.received) < count:
        time.sleep(0.1)
    time.sleep(0.5)  # anything more would be a duplicate: give it the chance to show
    return [json.loads(message["body"]) for message in receiver.received]


def test_serve_with_workers_delivers_each_event_once(database_url):
    settings = {"FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE": "on", "FLEXIGIFT_WEBHOOK_POLL": "0.1",
                "FLEXIGIFT_LAPSE_SWEEP": "0.2"}
    with Receiver() as receiver, flexigift_serve(database_url, "--workers", "2", settings=settings) as server:
        status, _ = server.api("POST", "/webhooks", {"url": receiver.url, "event_types": ["card.*"],
                                                     "secret": SECRET})
        assert status == 201
        server.api("POST", "/issuers", KOHLS)
        server.api("POST", "/products", DOG_BED)
        status, body = server.api("POST", "/gift_cards", {"card_id": "kohls-gc-001", "issuer": "Kohls",
                                                          "balance": "500.00"})
        assert status == 201, body
        card = json.loads(body)
        for _ in range(4):  # several connections: the workers share them
            status, body = server.api("POST", f"/gift_cards/{card['id']}/redeem", {"amount": "1.00",
                                                                                "product_id": DOG_BED["product_id"]})
            assert status == 201, body
        events = _wait_for(receiver, 5)
        assert [event["type"] for event in events] == ["card.issued"] + ["card.redeemed"] * 4
        assert len({event["id"] for event in events}) == 5
        assert all(verify(SECRET, message["body"], message["headers"]["Flexigift-Signature"])
                   for message in receiver.received)


FORKS = 100


def test_workers_forked_beside_the_busy_deliverer_thread_can_all_query(app):
    """The deliverer thread works with the database while granian forks workers beside
    it. A child forked while that thread was inside SQLite or libpq would start with a lock
    no thread of its own releases, and wait forever on its first query (then granian
    kills it at shutdown). With the thread polling nonstop, each of many forked children
    serves requests and exits at once."""
    client = app.test_client()
    assert client.get("/gift_cards").status_code == 200
    stop = start_thread(app.extensions["flexigift_db"], DeliverySettings(poll_interval=0.0, sweep_interval=0.0))
    try:
        for number in range(FORKS):
            with warnings.catch_warnings():  # Python 3.12+ warns of any fork beside a thread
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the child: two requests, then out (no pytest teardown here)
                code = 1
                try:
                    statuses = {client.get("/users?limit=5").status_code, client.get("/gift_cards").status_code}
                    code = 0 if statuses == {200} else 2
                finally:
                    os._exit(code)
            deadline = time.monotonic() + 5.0
            while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
                time.sleep(0.002)
            if not done[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            assert done[0], f"child {number + 1} of {FORKS} still waits on its requests after 5 s"
            assert os.waitstatus_to_exitcode(done[1]) == 0, f"child {number + 1} failed its requests"
    finally:
        stop.set()
        for thread in threading.enumerate():  # done with the database before it is closed
            if thread.name == "flexigift-deliverer":
                thread.join(10)
