"""Holds and orders under concurrent requests, against a real server of 4 processes
(gunicorn) sharing one database, SQLite or PostgreSQL (issue 12): 50 parallel
authorizations never reserve more than the balance; a capture racing a void settles
exactly one; an order across three cards racing a redeem on one of them is whole
or absent; orders charging cards in opposite orders capture and refund at once without
deadlocking."""
from __future__ import annotations

import json

from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, card, entries_of, exact, kohls_world
from servers import call, gunicorn
from test_concurrency import all_at_once


def test_fifty_parallel_authorizations_never_reserve_more_than_the_balance(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        url = f"{server}/gift_cards/{created['id']}/authorize"
        results = all_at_once(50, lambda: call("POST", url, {"amount": "10.00"}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 40
    assert {json.loads(body)["errors"][0]["logref"] for status, body in results if status == 409} \
        == {"insufficient_balance"}
    assert exact(json_client.get(f"/gift_cards/{created['id']}"), "available_balance") == 0
    assert balance_of(json_client, created["id"]) == 100
    assert len(json_client.get(f"/holds?gift_card={created['id']}&limit=300").json) == 10


def test_authorizations_racing_redemptions_never_overdraw(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        base = f"{server}/gift_cards/{created['id']}"
        calls = [lambda: call("POST", f"{base}/authorize", {"amount": "10.00"}),
                 lambda: call("POST", f"{base}/redeem", {"product_id": "kohls-dogbed-001", "amount": "10.00"})]
        counter = iter(range(40))
        results = all_at_once(40, lambda: calls[next(counter) % 2]())
    assert sorted(status for status, _ in results) == [201] * 10 + [409] * 30
    shown = json_client.get(f"/gift_cards/{created['id']}")
    assert exact(shown, "available_balance") == 0 and exact(shown, "balance") >= 0


def test_capture_racing_void_settles_exactly_one(database_url, json_client):
    created, _ = kohls_world(json_client, balance="100.00")
    holds = [json_client.post(f"/gift_cards/{created['id']}/authorize", {"amount": "5.00"}).json["id"]
             for _ in range(10)]
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        jobs = iter([(hold, action) for hold in holds for action in ("capture", "void")])
        results = all_at_once(20, lambda: (lambda job: (job, call("POST", f"{server}/holds/{job[0]}/{job[1]}",
                                                                  {})))(next(jobs)))
    for hold in holds:
        outcomes = {action: status for (pk, action), (status, _) in results if pk == hold}
        won = {action for action, status in outcomes.items() if status in (200, 201)}
        assert len(won) == 1, outcomes
        assert set(outcomes.values()) - {200, 201} == {409}
        shown = json_client.get(f"/holds/{hold}").json
        assert shown["status"] == {"capture": "captured", "void": "voided"}[won.pop()]
    captured = sum(1 for hold in holds if json_client.get(f"/holds/{hold}").json["status"] == "captured")
    assert balance_of(json_client, created["id"]) == 100 - 5 * captured
    assert len(entries_of(json_client, created["id"], kind="redeem")) == captured


def test_an_order_across_three_cards_racing_a_redeem_is_whole_or_absent(database_url, json_client):
    first, _ = kohls_world(json_client, balance="30.00")
    second = card(json_client, card_id="kohls-gc-002", balance="30.00")
    third = card(json_client, card_id="kohls-gc-003", balance="30.00")
    cards = [first, second, third]
    body = {"order_reference": "race", "amount": "90.00", "currency_code": "USD", "mode": "capture",
            "payments": [{"card_id": c["id"]} for c in cards]}
    with gunicorn(database_url, f"/gift_cards/{first['id']}") as server:
        jobs = iter(["order", "redeem"] * 5)

        def one():
            if next(jobs) == "order":
                return "order", call("POST", f"{server}/orders", body)
            return "redeem", call("POST", f"{server}/gift_cards/{third['id']}/redeem",
                                  {"product_id": "kohls-dogbed-001", "amount": "10.00"})

        results = all_at_once(10, one)
    orders = [status for kind, (status, _) in results if kind == "order"]
    redeems = [status for kind, (status, _) in results if kind == "redeem"]
    assert orders.count(201) <= 1
    orders_made = json_client.get("/orders").json
    assert len(orders_made) == orders.count(201)
    if orders_made:  # whole: every card paid its 30.00, and no redeem got through after it
        assert [balance_of(json_client, c["id"]) for c in cards] == [0, 0, 0]
    else:  # absent: the first two untouched, the third paid only the redemptions
        assert [balance_of(json_client, c["id"]) for c in cards[:2]] == [30, 30]
        assert balance_of(json_client, third["id"]) == 30 - 10 * redeems.count(201)
    for c in cards[:2]:
        assert len(entries_of(json_client, c["id"], kind="redeem")) == len(orders_made)


def test_orders_charging_cards_in_opposite_orders_capture_and_refund_at_once_without_deadlock(database_url,
                                                                                                json_client):
    """Orders paying four cards first to last and last to first, captured and refunded all at
    once while new orders pay the same cards: every request goes through (no deadlock, so no
    503), and each card's balance is what they add up to."""
    kohls_world(json_client, balance="1000.00")
    cards = [card(json_client, card_id=f"kohls-gc-4{n:02}", balance="1000.00")["id"] for n in range(4)]

    def body(n: int, mode: str) -> dict:
        paying = cards if n % 2 == 0 else cards[::-1]
        return {"order_reference": f"{mode}-{n}", "amount": "4.00", "currency_code": "USD", "mode": mode,
                "payments": [{"card_id": pk, "amount": "1.00"} for pk in paying]}

    authorized = [json_client.post("/orders", body(n, "authorize")).json["id"] for n in range(10)]
    paid = [json_client.post("/orders", body(n, "capture")).json["id"] for n in range(10)]
    with gunicorn(database_url, "/orders") as server:
        jobs = iter([("POST", f"/orders/{pk}/capture", {}) for pk in authorized]
                    + [("POST", f"/orders/{pk}/refund", {}) for pk in paid]
                    + [("POST", "/orders", body(n, "capture")) for n in range(10, 20)])
        results = all_at_once(30, lambda: (lambda job: call(job[0], server + job[1], job[2]))(next(jobs)))
    assert sorted(status for status, _ in results) == [200] * 20 + [201] * 10, \
        [body for status, body in results if status not in (200, 201)]
    for pk in cards:  # 10 captured and 10 new orders kept 1.00 each; the refunded ones gave theirs back
        shown = json_client.get(f"/gift_cards/{pk}")
        assert exact(shown, "balance") == exact(shown, "available_balance") == 980
