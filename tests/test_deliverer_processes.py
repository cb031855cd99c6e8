"""The deliverer as its own process (``flexigift deliver``): killed mid-batch it loses
nothing, and two of them on PostgreSQL deliver each event once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from flexigift.models import Delivery
from money_helpers import kohls_world, redeem
from servers import REPOSITORY
from test_webhooks import SECRET, app  # noqa: F401 (fixture)
from webhook_receiver import Receiver

#: Bounds on every wait (never an assertion on time).
WAIT = 60.0


def deliverer(database_url: str, *args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "DATABASE_URL": database_url,
                   "FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE": "on", "FLEXIGIFT_WEBHOOK_POLL": "0.05",
                   "FLEXIGIFT_WEBHOOK_BACKOFF": "0", **env}
    return subprocess.Popen([sys.executable, "-m", "flexigift.cli", "deliver", *args], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def pending(app) -> int:
    with app.app_context(), app.extensions["flexigift_db"].connection_context():
        return Delivery.select().where(Delivery.status != "delivered").count()


def test_a_deliverer_killed_mid_batch_loses_nothing(app, json_client, database_url):  # noqa: F811
    with Receiver(answers=[200, "hang"], hang_seconds=30) as receiver:
        json_client.post("/webhooks", {"url": receiver.url, "event_types": ["card.*"], "secret": SECRET})
        created, _ = kohls_world(json_client, balance=500)
        for _ in range(4):
            redeem(json_client, created["id"])
        process = deliverer(database_url, FLEXIGIFT_WEBHOOK_TIMEOUT="60")
        try:
            wait_for(lambda: len(receiver.received) == 2, "the second delivery to be in flight")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(WAIT)
        assert pending(app) == 4  # the one in flight is still owed
        restarted = deliverer(database_url)
        try:
            wait_for(lambda: pending(app) == 0, "the restarted deliverer to send the rest")
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(WAIT) == 0, restarted.stderr.read()
        received = receiver.event_ids()
    expected = [event["id"] for event in json_client.get("/events?type=card.*").json]
    assert received[1] == received[2], "the delivery in flight at the kill is sent again"
    assert list(dict.fromkeys(received)) == expected  # deduped on the event id: all, in order


def test_two_deliverers_on_postgresql_deliver_each_event_once(app, json_client, database_url):  # noqa: F811
    if not database_url.startswith("postgres"):
        pytest.skip("several deliverers share the work on PostgreSQL; SQLite runs one")
    with Receiver() as receiver:
        paths = [f"/hook{number}" for number in range(4)]
        for path in paths:
            json_client.post("/webhooks", {"url": receiver.url + path, "event_types": ["card.*"],
                                           "secret": SECRET})
        created, _ = kohls_world(json_client, balance=5000)
        for _ in range(9):
            redeem(json_client, created["id"])
        processes = [deliverer(database_url) for _ in range(2)]
        try:
            wait_for(lambda: pending(app) == 0, "every delivery")
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(WAIT)
        expected = [event["id"] for event in json_client.get("/events?type=card.*").json]
        assert len(expected) == 10
        for path in paths:
            assert receiver.event_ids(path) == expected  # each once, in order
