"""A server process killed outright (SIGKILL) in a stream of order payments leaves the
database whole: every order has all its payments (the ledger entries of mode capture, the
holds of mode authorize, and the captures of those holds) or does not exist, no ledger
entry is without its balance change, each card's balance and available balance are what
the surviving orders add up to, ``flexigift check-ledger`` is clean and SQLite's integrity
check is ok."""
from __future__ import annotations

import decimal
import http.client
import itertools
import json
import threading
import time
from collections import defaultdict

from api_helpers import items_of
from money_helpers import card, exact, kohls_world
from servers import call
from test_crash_safety import BUSY_BOUND, KillableServer, _sound

HAL = "application/hal+json"
#: What each card of an order pays, in cents, in the order the cards are named.
SHARES = (1, 2, 3)
INITIAL = 100_000  # each card's balance, in cents
#: How many requests (orders and captures) the server answers before it is killed.
ANSWERED = 60


def pk_of(href: str) -> int:
    return int(href.rstrip("/").rsplit("/", 1)[1])


def cents(value) -> int:
    return int(decimal.Decimal(str(value)).scaleb(2))


class Checkout:
    """One client paying orders in a loop: mode capture, then mode authorize and capture its
    holds, and so on; every order reference it sends is remembered, answered or not."""

    def __init__(self, name: str, base: str, cards: list[int], stop: threading.Event, answers: list[int]):
        self.name, self.base, self.cards, self.stop, self.answers = name, base, cards, stop, answers
        self.sent: list[tuple[str, str, list[int]]] = []  # (reference, mode, card pks)
        self.created: set[str] = set()  # references answered 201
        self.captured: set[str] = set()  # references whose capture answered 200
        self.failures: list[bytes] = []  # the bodies of answers that were not a success

    def run(self) -> None:
        for n in itertools.count():
            if self.stop.is_set():
                return
            paying = [self.cards[(n + k) % len(self.cards)] for k in range(len(SHARES))]
            mode = "capture" if n % 2 == 0 else "authorize"
            reference = f"{self.name}-{n}"
            self.sent.append((reference, mode, paying))
            body = {"order_reference": reference, "currency_code": "USD", "mode": mode,
                    "amount": f"{sum(SHARES) / 100:.2f}",
                    "payments": [{"card_id": pk, "amount": f"{share / 100:.2f}"}
                                 for pk, share in zip(paying, SHARES)]}
            try:
                status, answer = call("POST", f"{self.base}/orders", body)
                self.answers.append(status)
                if status != 201:
                    self.failures.append(answer)
                    return
                self.created.add(reference)
                if mode == "authorize":
                    status, answer = call("POST", f"{self.base}/orders/{json.loads(answer)['id']}/capture", {})
                    self.answers.append(status)
                    if status != 200:
                        self.failures.append(answer)
                        return
                    self.captured.add(reference)
            except (OSError, http.client.HTTPException):
                return  # the server is gone


def hal_items(api, url: str, rel: str) -> list[dict]:
    return items_of(api.client.get(url, headers={"Accept": HAL}), rel)


def test_killed_in_a_stream_of_order_payments_leaves_no_partial_order(database_url, json_client):
    kohls_world(json_client, balance="1000.00")
    cards = [card(json_client, card_id=f"kohls-gc-3{n:02}", balance="1000.00")["id"] for n in range(4)]
    server = KillableServer(database_url)
    stop, answers = threading.Event(), []
    clients = [Checkout(f"crash-{n}", server.base, cards, stop, answers) for n in range(4)]
    threads = [threading.Thread(target=client.run, daemon=True) for client in clients]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + BUSY_BOUND
        while len(answers) < ANSWERED and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.kill()
        stop.set()
    for thread in threads:
        thread.join(60)
    assert len(answers) >= ANSWERED and set(answers) <= {200, 201}, [c.failures for c in clients]
    _sound(database_url)

    paid: dict[int, int] = defaultdict(int)  # card → what its surviving payments took
    held: dict[int, int] = defaultdict(int)  # card → what its surviving holds reserve
    orders = 0
    for client in clients:
        for reference, mode, paying in client.sent:
            found = json_client.get(f"/orders?order_reference={reference}").json
            assert len(found) <= 1
            if reference in client.created:
                assert found, f"order {reference} was answered 201 but is gone"
            if not found:
                continue
            orders += 1
            order = found[0]
            expected = dict(zip(paying, SHARES))
            entries = hal_items(json_client, f"/transactions?order_id={order['id']}&limit=50", "fg:transactions")
            holds = hal_items(json_client, f"/holds?order_id={order['id']}&limit=50", "fg:holds")
            assert {entry["kind"] for entry in entries} <= {"redeem"}, (reference, entries)
            if mode == "capture":
                assert holds == [], (reference, holds)
                taken = {pk_of(entry["_links"]["fg:gift_card"]["href"]): -cents(entry["amount"])
                         for entry in entries}
                assert len(entries) == len(SHARES) and taken == expected, (reference, entries)
                assert order["status"] == "paid" and cents(order["paid"]) == sum(SHARES)
                for pk, share in taken.items():
                    paid[pk] += share
                continue
            reserved = {pk_of(hold["_links"]["fg:gift_card"]["href"]): cents(hold["amount"]) for hold in holds}
            assert len(holds) == len(SHARES) and reserved == expected, (reference, holds)
            statuses = {hold["status"] for hold in holds}
            assert statuses in ({"active"}, {"captured"}), (reference, holds)  # a capture is all or nothing
            if reference in client.captured:
                assert statuses == {"captured"}, (reference, holds)
            if statuses == {"active"}:
                assert entries == [] and order["status"] == "authorized", (reference, entries)
                for pk, share in reserved.items():
                    held[pk] += share
                continue
            by_hold = {pk_of(entry["_links"]["fg:hold"]["href"]): entry for entry in entries}
            assert len(entries) == len(SHARES) and set(by_hold) == {hold["id"] for hold in holds}, (reference, entries)
            for hold in holds:
                assert cents(hold["captured"]) == cents(hold["amount"]) == -cents(by_hold[hold["id"]]["amount"])
                paid[pk_of(hold["_links"]["fg:gift_card"]["href"])] += cents(hold["amount"])
            assert order["status"] == "paid" and cents(order["paid"]) == sum(SHARES)
    assert orders >= ANSWERED // 2
    assert len(json_client.get("/orders?limit=300").json) == orders  # none the clients did not send
    for pk in cards:  # every entry with its balance change, every hold reserving what it should
        shown = json_client.get(f"/gift_cards/{pk}")
        assert exact(shown, "balance") * 100 == INITIAL - paid[pk]
        assert exact(shown, "available_balance") * 100 == INITIAL - paid[pk] - held[pk]
