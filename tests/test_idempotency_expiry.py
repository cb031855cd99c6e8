"""Idempotency keys expire (issue 11): a key is remembered for FLEXIGIFT_IDEMPOTENCY_TTL
(24 hours by default); past it a request with the same key is a new request. Expired
records are pruned a few at a time by each new key and all at once by ``flexigift prune``;
a record younger than the TTL is never deleted, and the ledger, holds and orders stay whole.

Rows are aged by moving their ``date_created`` back in the database, never by waiting.
"""
from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from click.testing import CliRunner

from api_helpers import database_snapshot
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, card, entries_of, field_of, kohls_world, redeem

from flexigift.cli import main
from flexigift.config import Config, ConfigError
from flexigift.db import database
from flexigift.models import Hold, IdempotencyRecord, Order, Transaction
from flexigift.services.idempotency import PRUNE_PER_CLAIM

HAL = "application/hal+json"
DAY = datetime.timedelta(days=1)


def age(app, key: str, by: datetime.timedelta) -> None:
    """Make the record of ``key`` look ``by`` older than it is."""
    with app.extensions["flexigift_db"].connection_context():
        record = IdempotencyRecord.get(IdempotencyRecord.key == key)
        (IdempotencyRecord.update(date_created=record.date_created - by)
         .where(IdempotencyRecord.key == key).execute())


def keys(app) -> list[str]:
    with app.extensions["flexigift_db"].connection_context():
        return sorted(record.key for record in IdempotencyRecord.select())


def set_ttl(app, seconds: int) -> None:
    app.config["FLEXIGIFT"] = replace(app.config["FLEXIGIFT"], idempotency_ttl=seconds)


def prune_command(database_url: str, env: dict[str, str] | None = None, app=None):
    result = CliRunner().invoke(main, ["prune", "--database-url", database_url], env=env or {})
    if app is not None:  # the command pointed the models at its own connection; back to the app's
        database.initialize(app.extensions["flexigift_db"])
    assert result.exit_code == 0, result.output
    return result


# -- replay and expiry -----------------------------------------------------------

def test_a_retry_within_the_ttl_returns_the_first_outcome(app, client, json_client):
    created, _ = kohls_world(json_client)
    url, headers = f"/gift_cards/{created['id']}/redeem", {"Idempotency-Key": "k-1", "Accept": HAL}
    first = client.post_json(url, {"product_id": "kohls-dogbed-001", "amount": 20}, headers=headers)
    age(app, "k-1", DAY - datetime.timedelta(minutes=5))  # nearly a day old: still remembered
    again = client.post_json(url, {"product_id": "kohls-dogbed-001", "amount": 20}, headers=headers)
    assert again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    assert balance_of(json_client, created["id"]) == 80
    assert len(entries_of(json_client, created["id"], kind="redeem")) == 1


def test_after_the_ttl_the_same_key_makes_a_new_redemption(app, client, json_client):
    created, _ = kohls_world(json_client)
    url, headers = f"/gift_cards/{created['id']}/redeem", {"Idempotency-Key": "k-2", "Accept": HAL}
    body = {"product_id": "kohls-dogbed-001", "amount": 20}
    first = client.post_json(url, body, headers=headers, status=201)
    age(app, "k-2", DAY + datetime.timedelta(minutes=1))
    second = client.post_json(url, body, headers=headers, status=201)
    assert "Idempotent-Replayed" not in second.headers
    assert second.json["id"] != first.json["id"] and second.json["balance_after"] == 60
    assert balance_of(json_client, created["id"]) == 60
    # the new request is remembered in turn: its retry replays it, not the first one
    third = client.post_json(url, body, headers=headers, status=201)
    assert third.headers["Idempotent-Replayed"] == "true" and third.json["id"] == second.json["id"]
    assert [entry["idempotency_key"] for entry in entries_of(json_client, created["id"], kind="redeem")] == \
        ["k-2", "k-2"]
    assert keys(app) == ["k-2"]


def test_after_the_ttl_the_key_may_carry_another_request(app, json_client):
    created, _ = kohls_world(json_client)
    redeem(json_client, created["id"], amount=20, headers={"Idempotency-Key": "k-3"})
    assert field_of(redeem(json_client, created["id"], amount=30, headers={"Idempotency-Key": "k-3"},
                           status=422)) == "Idempotency-Key"
    age(app, "k-3", 2 * DAY)
    redeem(json_client, created["id"], amount=30, headers={"Idempotency-Key": "k-3"}, status=201)
    assert balance_of(json_client, created["id"]) == 50


def test_the_ttl_is_configured(app, json_client):
    created, _ = kohls_world(json_client)
    set_ttl(app, 3600)
    redeem(json_client, created["id"], amount=10, headers={"Idempotency-Key": "short"})
    age(app, "short", datetime.timedelta(minutes=59))
    assert "Idempotent-Replayed" in redeem(json_client, created["id"], amount=10,
                                           headers={"Idempotency-Key": "short"}).headers
    age(app, "short", datetime.timedelta(minutes=2))  # 61 minutes old now
    assert "Idempotent-Replayed" not in redeem(json_client, created["id"], amount=10,
                                               headers={"Idempotency-Key": "short"}).headers
    assert balance_of(json_client, created["id"]) == 80


def test_holds_orders_and_issues_also_forget_an_expired_key(app, json_client):
    created, _ = kohls_world(json_client)
    first = json_client.post(f"/gift_cards/{created['id']}/authorize", {"amount": 5},
                             headers={"Idempotency-Key": "h"})
    age(app, "h", 2 * DAY)
    second = json_client.post(f"/gift_cards/{created['id']}/authorize", {"amount": 5},
                              headers={"Idempotency-Key": "h"})
    assert "Idempotent-Replayed" not in second.headers and second.json["id"] != first.json["id"]

    other = card(json_client, "kohls-gc-002")
    body = {"order_reference": "A-1", "amount": 7, "currency_code": "USD", "payments": [{"card_id": other["id"]}]}
    placed = json_client.post("/orders", body, headers={"Idempotency-Key": "o"})
    age(app, "o", 2 * DAY)
    again = json_client.post("/orders", body, headers={"Idempotency-Key": "o"})
    assert again.json["id"] != placed.json["id"] and balance_of(json_client, other["id"]) == 86

    issuer_id = json_client.get("/issuers?name=Kohls").json[0]["id"]
    issue = f"/issuers/{issuer_id}/bulk_create"
    json_client.post(issue, {"card_ids": ["b-1"], "balance": 1}, headers={"Idempotency-Key": "i"})
    age(app, "i", 2 * DAY)
    fresh = json_client.post(issue, {"card_ids": ["b-2"], "balance": 1}, headers={"Idempotency-Key": "i"})
    assert fresh.json["card_ids"] == ["b-2"] and "Idempotent-Replayed" not in fresh.headers
    replay = json_client.post(issue, {"card_ids": ["b-2"], "balance": 1}, headers={"Idempotency-Key": "i"})
    assert replay.json["card_ids"] == ["b-2"], "a replay answers what this use of the key issued"
    assert replay.headers["Idempotent-Replayed"] == "true"


# -- pruning ---------------------------------------------------------------------

def _used_keys(app, json_client, names: list[str]) -> int:
    """A redemption, a hold and an order per name, each with its own key; the card."""
    created, _ = kohls_world(json_client, balance=1000)
    for name in names:
        redeem(json_client, created["id"], amount=1, headers={"Idempotency-Key": f"{name}-redeem"})
        json_client.post(f"/gift_cards/{created['id']}/authorize", {"amount": 1},
                         headers={"Idempotency-Key": f"{name}-hold"})
        json_client.post("/orders", {"order_reference": name, "amount": 1, "currency_code": "USD",
                                     "payments": [{"card_id": created["id"]}]},
                         headers={"Idempotency-Key": f"{name}-order"})
    return created["id"]


def _ledger(app) -> dict[str, list[tuple]]:
    snapshot = database_snapshot(app)
    return {name: rows for name, rows in snapshot.items() if name in (Transaction.__name__, Hold.__name__,
                                                                        Order.__name__)}


def test_prune_removes_only_expired_records_and_reports_how_many(app, json_client, database_url):
    _used_keys(app, json_client, ["old-1", "old-2", "young"])
    for name in ("old-1", "old-2"):
        for kind in ("redeem", "hold", "order"):
            age(app, f"{name}-{kind}", DAY + datetime.timedelta(seconds=30))
    for kind in ("redeem", "hold", "order"):
        age(app, f"young-{kind}", DAY - datetime.timedelta(minutes=1))  # a minute short of expiring
    ledger = _ledger(app)
    result = prune_command(database_url, app=app)
    assert result.output.startswith("pruned 6 expired idempotency records")
    assert keys(app) == ["young-hold", "young-order", "young-redeem"]
    assert _ledger(app) == ledger, "the entries, holds and orders the records pointed at stay"
    assert prune_command(database_url, app=app).output.startswith("pruned 0 expired idempotency records")


def test_prune_follows_the_configured_ttl(app, json_client, database_url):
    _used_keys(app, json_client, ["a"])
    for kind in ("redeem", "hold", "order"):
        age(app, f"a-{kind}", datetime.timedelta(hours=2))
    assert prune_command(database_url, app=app).output.startswith("pruned 0 ")
    result = prune_command(database_url, {"FLEXIGIFT_IDEMPOTENCY_TTL": "1h"}, app=app)
    assert result.output.startswith("pruned 3 expired idempotency records (older than 3600 seconds)")
    assert keys(app) == []


def test_each_new_key_prunes_a_few_expired_records_never_a_young_one(app, json_client):
    names = [f"n{number}" for number in range(3)]
    card_pk = _used_keys(app, json_client, names)  # nine records
    expired = sorted(keys(app))[:7]
    for key in expired:
        age(app, key, 2 * DAY)
    young = sorted(set(keys(app)) - set(expired))
    ledger = _ledger(app)
    redeem(json_client, card_pk, amount=1, headers={"Idempotency-Key": "new-1"})
    assert len(keys(app)) == 9 + 1 - PRUNE_PER_CLAIM
    assert set(young) | {"new-1"} <= set(keys(app))
    redeem(json_client, card_pk, amount=1, headers={"Idempotency-Key": "new-2"})
    redeem(json_client, card_pk, amount=1, headers={"Idempotency-Key": "new-3"})
    assert keys(app) == sorted([*young, "new-1", "new-2", "new-3"])
    assert {name: rows[:len(ledger[name])] for name, rows in _ledger(app).items()} == ledger
    # a request without a key writes no record and prunes nothing
    redeem(json_client, card_pk, amount=1)
    assert keys(app) == sorted([*young, "new-1", "new-2", "new-3"])


def test_a_replay_of_a_young_key_survives_pruning(app, json_client, database_url):
    created, _ = kohls_world(json_client)
    redeem(json_client, created["id"], amount=10, headers={"Idempotency-Key": "keep"})
    prune_command(database_url, app=app)
    assert redeem(json_client, created["id"], amount=10,
                  headers={"Idempotency-Key": "keep"}).headers["Idempotent-Replayed"] == "true"
    assert balance_of(json_client, created["id"]) == 90


# -- the setting -------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [("", 86_400), ("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86_400),
                                           ("7d", 7 * 86_400), (" 2H ", 7200)])
def test_the_ttl_is_read_in_seconds_or_as_a_duration(text, seconds):
    assert Config.from_env({"FLEXIGIFT_IDEMPOTENCY_TTL": text}).idempotency_ttl == seconds


@pytest.mark.parametrize("text", ["0", "-5", "1w", "soon", "1.5h", "²", "400d"])
def test_an_unusable_ttl_is_refused_naming_the_variable(text):
    with pytest.raises(ConfigError, match="FLEXIGIFT_IDEMPOTENCY_TTL"):
        Config.from_env({"FLEXIGIFT_IDEMPOTENCY_TTL": text})



# -- under concurrency (a real server of several processes) ---------------------------

def test_concurrent_retries_of_an_expired_key_debit_once_more(app, database_url, json_client):
    from servers import call, gunicorn
    from test_concurrency import all_at_once

    created, _ = kohls_world(json_client, balance="100.00")
    redeem(json_client, created["id"], amount=10, headers={"Idempotency-Key": "order-43"})
    age(app, "order-43", 2 * DAY)
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        url = f"{server}/gift_cards/{created['id']}/redeem"
        results = all_at_once(12, lambda: call("POST", url, {"product_id": "kohls-dogbed-001", "amount": 10},
                                               {"Idempotency-Key": "order-43"}))
    assert {status for status, _ in results} == {201}
    assert len({body for _, body in results}) == 1, "one new redemption, replayed to every other retry"
    assert balance_of(json_client, created["id"]) == 80
    assert len(entries_of(json_client, created["id"], kind="redeem")) == 2


def test_concurrent_new_keys_prune_without_failing_or_touching_young_records(app, database_url, json_client):
    import itertools

    from servers import call, gunicorn
    from test_concurrency import all_at_once

    created, _ = kohls_world(json_client, balance="1000.00")
    for number in range(30):
        redeem(json_client, created["id"], amount=1, headers={"Idempotency-Key": f"old-{number}"})
        age(app, f"old-{number}", 2 * DAY)
    for number in range(5):
        redeem(json_client, created["id"], amount=1, headers={"Idempotency-Key": f"young-{number}"})
    numbers = itertools.count()
    with gunicorn(database_url, f"/gift_cards/{created['id']}") as server:
        url = f"{server}/gift_cards/{created['id']}/redeem"
        results = all_at_once(12, lambda: call("POST", url, {"product_id": "kohls-dogbed-001", "amount": 1},
                                               {"Idempotency-Key": f"new-{next(numbers)}"}))
    assert {status for status, _ in results} == {201}
    remaining = keys(app)
    assert {f"young-{number}" for number in range(5)} | {f"new-{number}" for number in range(12)} <= set(remaining)
    assert len([key for key in remaining if key.startswith("old-")]) < 30, "the new keys pruned expired ones"
    assert balance_of(json_client, created["id"]) == 1000 - 30 - 5 - 12
