"""No overdraft, no double debit, no over-refund under concurrent requests, against
a real server of 4 processes (gunicorn) sharing one database: an SQLite file or
PostgreSQL (SPEC 4.4, 8)."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, entries_of, kohls_world, redeem
from servers import call, gunicorn

BARRIER_TIMEOUT = 30
ALL_DONE_TIMEOUT = 180


def all_at_once(count: int, request) -> list[tuple[int, bytes]]:
    """Run ``request()`` in ``count`` threads released together; every (status, body)."""
    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT)

    def task():
        barrier.wait()
        return request()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(task) for _ in range(count)]
        return [future.result(timeout=ALL_DONE_TIMEOUT) for future in futures]


def logrefs(results) -> set[str]:
    return {json.loads(body)["errors"][0]["logref"] for status, body in results if status != 201}


def test_fifty_concurrent_redemptions_never_overdraw(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        url = f"{server}/gift_cards/{created['id']}/redeem"
        results = all_at_once(50, lambda: call("POST", url, {"product_id": "kohls-dogbed-001",
                                                             "amount": "10.00"}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 40
    assert logrefs(results) == {"insufficient_balance"}
    assert balance_of(json_client, created["id"]) == 0
    assert len(entries_of(json_client, created["id"], kind="redeem")) == 10


def test_concurrent_retries_with_one_idempotency_key_debit_once(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        url = f"{server}/gift_cards/{created['id']}/redeem"
        results = all_at_once(20, lambda: call("POST", url, {"product_id": "kohls-dogbed-001"},
                                               {"Idempotency-Key": "order-42"}))
    assert {status for status, _ in results} == {201}
    assert len({body for _, body in results}) == 1
    assert balance_of(json_client, created["id"]) == 50
    assert len(entries_of(json_client, created["id"], kind="redeem")) == 1


def test_concurrent_refunds_never_return_more_than_was_redeemed(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    redemption = redeem(json_client, created["id"]).json
    with gunicorn(database_url, f"/transactions/{redemption['id']}") as server:
        url = f"{server}/transactions/{redemption['id']}/refund"
        results = all_at_once(20, lambda: call("POST", url, {"amount": "5.00"}))
    assert sorted(status for status, _ in results) == [201] * 10 + [409] * 10
    assert logrefs(results) <= {"fully_refunded", "refund_exceeds_redemption"}
    assert balance_of(json_client, created["id"]) == 100


def test_redemptions_racing_changes_of_their_card_and_user_never_answer_500(database_url, json_client):
    """Redemptions (which lock the card, then read its user) racing PATCHes of the card and of
    its user, and a re-linking of the user's cards: every answer is a success or a 4xx, never a
    deadlock's 500, and the ledger holds (checked after the test)."""
    created, _ = kohls_world(json_client, balance="1000.00")
    shopper = json_client.post("/users", {"user_id": "racer", "gift_cards": [created["card_id"]]}).json
    card_url, user_url = f"/gift_cards/{created['id']}", f"/users/{shopper['id']}"
    with gunicorn(database_url, card_url) as server:
        def one(kind: int):
            if kind % 3 == 0:
                return call("POST", f"{server}{card_url}/redeem", {"product_id": "kohls-dogbed-001",
                                                                  "amount": "1.00"})
            if kind % 3 == 1:
                return call("PATCH", f"{server}{card_url}", {"reference": f"ref-{kind}"})
            return call("PATCH", f"{server}{user_url}", {"name": f"Racer {kind}",
                                                         "gift_cards": [created["card_id"]]})
        counter = iter(range(10_000))
        lock = threading.Lock()

        def next_request():
            with lock:
                kind = next(counter)
            return one(kind)

        results = all_at_once(30, next_request)
    failures = [(status, body[:200]) for status, body in results if status >= 500]
    assert failures == []
    assert all(status in (200, 201) for status, _ in results), sorted({s for s, _ in results})
    assert balance_of(json_client, created["id"]) == 990
