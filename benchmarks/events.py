"""Benchmark (issue 13): what events cost a redemption, and deliveries per second.

Run by hand (not in CI), from the repository root::

    python benchmarks/events.py [--database-url postgresql://postgres@127.0.0.1:5432/bench]
                                [--redemptions 500] [--subscriptions 3] [--deliveries 500]

The database given (default: a new SQLite file in a temporary directory) loses
its Flexigift tables first. In one process, through the WSGI app (WebTest, no
network), it times ``--redemptions`` redemptions three ways: with the outbox
switched off (a baseline: no event written), with events but no subscription,
and with ``--subscriptions`` subscriptions to ``card.*`` (a delivery row each
per event). It reports events and deliveries written per redemption and each
rate's overhead on the baseline. Then a deliverer sends ``--deliveries``
deliveries to a receiver on 127.0.0.1 (http.server in a thread, answering 200)
and it reports deliveries per second.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

SECRET = "benchmark-secret-0123456789"


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _fresh(url: str):
    from flexigift.db import connect_url
    from flexigift.models import TABLES

    db = connect_url(url, pool_size=1)
    with db.connection_context():
        existing = set(db.get_tables())
        doomed = [f'"{model._meta.table_name}"' for model in TABLES if model._meta.table_name in existing]
        if doomed:
            cascade = " CASCADE" if url.startswith("postgres") else ""
            for table in doomed:
                db.execute_sql(f"DROP TABLE IF EXISTS {table}{cascade}")
    db.close_all()


def _client(url: str):
    import webtest

    from flexigift.app import create_app
    from flexigift.config import Config

    app = create_app(Config(database_url=url, auth=False, webhooks_allow_private=True))
    return app, webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})


def _redemptions_per_second(client, count: int, tag: str) -> float:
    headers = {"Accept": "application/json"}
    card = client.post_json("/gift_cards", {"card_id": f"bench-{tag}", "issuer": "Bench",
                                            "balance": "1000000.00"}, headers=headers).json
    body = {"product_id": "bench-item", "amount": "0.01"}
    started = time.perf_counter()
    for _ in range(count):
        client.post_json(f"/gift_cards/{card['id']}/redeem", body, headers=headers)
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redemptions", type=int, default=500)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=500)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/events-bench.db"
    _fresh(url)

    from flexigift.events import outbox
    from flexigift.events.deliverer import DeliverySettings, deliver_due
    from flexigift.models import Delivery, Event

    app, client = _client(url)
    db = app.extensions["flexigift_db"]
    headers = {"Accept": "application/json"}
    client.post_json("/issuers", {"name": "Bench"}, headers=headers)
    client.post_json("/products", {"product_id": "bench-item", "name": "Item", "price": "0.01",
                                   "eligible_issuer": "Bench"}, headers=headers)
    _redemptions_per_second(client, 50, "warm-up")

    real = outbox.record_events
    outbox.record_events = lambda type, events: [0 for _ in events]  # the baseline: no outbox at all
    try:
        baseline = _redemptions_per_second(client, args.redemptions, "baseline")
    finally:
        outbox.record_events = real

    def counts():
        with db.connection_context():
            return Event.select().count(), Delivery.select().count()

    before = counts()
    plain = _redemptions_per_second(client, args.redemptions, "events")
    after = counts()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_address[1]}/hook"
    for _ in range(args.subscriptions):
        client.post_json("/webhooks", {"url": target, "event_types": ["card.*"], "secret": SECRET},
                         headers=headers)
    subscribed = _redemptions_per_second(client, args.redemptions, "subscribed")
    final = counts()

    events_each = (after[0] - before[0]) / args.redemptions
    deliveries_each = (final[1] - after[1]) / args.redemptions
    print(f"database: {url}")
    print(f"redemptions/s without events:           {baseline:8.1f}")
    print(f"redemptions/s with events:              {plain:8.1f}  ({100 * (1 - plain / baseline):.1f}% "
          f"slower; {events_each:.2f} event(s) per redemption)")
    print(f"redemptions/s with {args.subscriptions} subscription(s):     {subscribed:8.1f}  "
          f"({100 * (1 - subscribed / baseline):.1f}% slower; {deliveries_each:.2f} deliveries per redemption)")

    with db.connection_context():
        owed = Delivery.select().where(Delivery.status == "pending").count()
    settings = DeliverySettings(allow_private=True, timeout=10)
    started = time.perf_counter()
    sent = 0
    while sent < min(owed, args.deliveries):
        sent += deliver_due(db, settings, limit=min(owed, args.deliveries) - sent)
    elapsed = time.perf_counter() - started
    print(f"deliveries/s (one deliverer, receiver on 127.0.0.1): {sent / elapsed:8.1f} ({sent} sent)")
    server.shutdown()
    db.close_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
