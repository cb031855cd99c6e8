"""The ledger: transactions as read-only resources, refunds and reloads, and the
``flexigift check-ledger`` audit (SPEC 2 transactions, 4.4)."""
from __future__ import annotations

import decimal

import pytest
from click.testing import CliRunner

from api_helpers import database_snapshot
from flexigift.cli import main
from flexigift.models import GiftCard, Transaction
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test, ledger_problems  # noqa: F401 (autouse fixture)
from money_helpers import balance_of, card, entries_of, field_of, kohls_world, logref, redeem

HAL = "application/hal+json"


def refund(api, entry_id: int, status: int = 201, **body):
    return api.post(f"/transactions/{entry_id}/refund", body, status=status)


def reload(api, card_pk: int, status: int = 201, **body):
    return api.post(f"/gift_cards/{card_pk}/reload", body, status=status)


# -- transactions as resources ------------------------------------------------------

def test_a_transaction_shows_its_facts_and_links(client, json_client):
    created, _ = kohls_world(json_client)
    entry = redeem(json_client, created["id"], order_reference="A-1").json
    document = client.get(f"/transactions/{entry['id']}").json
    for key in ("kind", "amount", "balance_after", "order_reference", "idempotency_key", "date_created"):
        assert key in document
    assert {"self", "fg:gift_card", "fg:product", "fg:refund"} <= set(document["_links"])
    siren = client.get(f"/transactions/{entry['id']}", headers={"Accept": SIREN}).json
    assert [action["name"] for action in siren["actions"]] == ["refund"]


def test_a_cards_log_is_embedded_under_fg_transactions(client, json_client):
    created, _ = kohls_world(json_client)
    redeem(json_client, created["id"], amount=10)
    reload(json_client, created["id"], amount=5)
    page = client.get(f"/gift_cards/{created['id']}/transactions").json
    kinds = [(item["kind"], item["amount"], item["balance_after"]) for item in page["_embedded"]["fg:transactions"]]
    assert kinds == [("issue", 100, 100), ("redeem", -10, 90), ("reload", 5, 95)]
    assert page["total_items"] == 3
    assert [item["kind"] for item in entries_of(json_client, created["id"], kind="redeem")] == ["redeem"]
    client.get("/gift_cards/999/transactions", status=404)


def test_cards_zoom_into_their_transactions(client, json_client):
    created, _ = kohls_world(json_client)
    redeem(json_client, created["id"], amount=10)
    page = client.get("/gift_cards?zoom=transactions").json
    [item] = page["_embedded"]["fg:gift_cards"]
    assert [entry["kind"] for entry in item["_embedded"]["fg:transactions"]] == ["issue", "redeem"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_no_route_changes_or_deletes_a_transaction(client, json_client, method):
    created, _ = kohls_world(json_client)
    entry = redeem(json_client, created["id"]).json
    response = client.request(f"/transactions/{entry['id']}", method=method, body=b"{}",
                              headers={"Content-Type": "application/json"}, expect_errors=True)
    assert response.status_int == 405
    assert "PUT" not in response.headers["Allow"] and "GET" in response.headers["Allow"]
    assert client.post_json("/transactions", {}, expect_errors=True).status_int == 405


def test_a_card_with_history_cannot_be_deleted(json_client):
    created, _ = kohls_world(json_client)
    assert logref(json_client.delete(f"/gift_cards/{created['id']}", status=409)) == "has_history"


# -- refunds ------------------------------------------------------------------------

def test_a_refund_returns_what_remains_of_the_redemption_by_default(client, json_client):
    created, _ = kohls_world(json_client)
    redemption = redeem(json_client, created["id"]).json
    refunded = refund(json_client, redemption["id"], amount="20.50").json
    assert (refunded["kind"], refunded["amount"], refunded["balance_after"]) == ("refund", 20.5, 70.5)
    rest = refund(json_client, redemption["id"]).json
    assert (rest["amount"], rest["balance_after"]) == (29.5, 100)
    links = client.get(f"/transactions/{rest['id']}").json["_links"]
    assert links["fg:refund_of"]["href"].endswith(f"/transactions/{redemption['id']}")
    assert logref(refund(json_client, redemption["id"], status=409)) == "fully_refunded"


def test_a_refund_never_exceeds_what_was_redeemed(app, json_client):
    created, _ = kohls_world(json_client)
    redemption = redeem(json_client, created["id"], amount=30).json
    refund(json_client, redemption["id"], amount=20)
    before = database_snapshot(app)
    response = refund(json_client, redemption["id"], amount="10.01", status=409)
    assert logref(response) == "refund_exceeds_redemption" and field_of(response) == "amount"
    assert database_snapshot(app) == before


def test_only_redemptions_can_be_refunded(json_client):
    created, _ = kohls_world(json_client)
    issue = entries_of(json_client, created["id"])[0]
    assert logref(refund(json_client, issue["id"], status=409)) == "not_a_redemption"
    refund(json_client, 999, status=404)
    refund(json_client, 2**40, status=404)


def test_a_full_refund_reopens_a_single_use_card(json_client):
    created, _ = kohls_world(json_client, single_use=True)
    redemption = redeem(json_client, created["id"]).json
    assert json_client.get(f"/gift_cards/{created['id']}").json["status"] == "redeemed"
    refund(json_client, redemption["id"])
    assert json_client.get(f"/gift_cards/{created['id']}").json["status"] == "active"


@pytest.mark.parametrize("accept", ["application/json", HAL, SIREN, "application/hal+xml", "text/html"])
def test_a_refund_always_goes_through_even_above_balance_max(client, json_client, accept):
    created, _ = kohls_world(json_client, balance_max=100)
    redemption = redeem(json_client, created["id"]).json
    reload(json_client, created["id"], amount=40)
    response = client.post_json(f"/transactions/{redemption['id']}/refund", {},
                                headers={"Accept": accept}, status=201)
    assert accept.split("/")[-1].split("+")[0] in response.content_type or accept == "application/json"
    assert balance_of(json_client, created["id"]) == 140
    # balance_max still limits reloads: the card stands above it, so nothing more goes in
    assert logref(reload(json_client, created["id"], amount="0.01", status=409)) == "above_balance_max"


@pytest.mark.parametrize("body, field", [({"amount": 0}, "amount"), ({"amount": "x"}, "amount"),
                                         ({"extra": 1}, "extra")])
def test_bad_refund_bodies_are_422(json_client, body, field):
    created, _ = kohls_world(json_client)
    redemption = redeem(json_client, created["id"]).json
    assert field_of(refund(json_client, redemption["id"], status=422, **body)) == field


# -- reloads ------------------------------------------------------------------------

def test_reload_adds_money_up_to_balance_max(app, json_client):
    created, _ = kohls_world(json_client, balance=50, balance_max=100)
    assert reload(json_client, created["id"], amount=50).json["balance_after"] == 100
    before = database_snapshot(app)
    response = reload(json_client, created["id"], amount="0.01", status=409)
    assert logref(response) == "above_balance_max"
    assert database_snapshot(app) == before


def test_only_rechargeable_active_cards_can_be_reloaded(json_client):
    created, _ = kohls_world(json_client, rechargeable=False)
    assert logref(reload(json_client, created["id"], amount=5, status=409)) == "not_rechargeable"
    disabled = card(json_client, "disabled", status="disabled")
    assert logref(reload(json_client, disabled["id"], amount=5, status=409)) == "card_disabled"
    reload(json_client, 999, amount=5, status=404)


def test_a_reload_needs_a_positive_amount(json_client):
    created, _ = kohls_world(json_client)
    assert field_of(reload(json_client, created["id"], status=422)) == "amount"
    assert field_of(reload(json_client, created["id"], amount=-1, status=422)) == "amount"


def test_reload_is_linked_only_from_rechargeable_cards(client, json_client):
    created, _ = kohls_world(json_client)
    fixed = card(json_client, "fixed", rechargeable=False)
    assert "fg:reload" in client.get(f"/gift_cards/{created['id']}").json["_links"]
    assert "fg:reload" not in client.get(f"/gift_cards/{fixed['id']}").json["_links"]


def test_the_largest_balance_never_overflows(json_client):
    created, _ = kohls_world(json_client, balance="9999999999999.99")
    assert logref(reload(json_client, created["id"], amount="9999999999999.99", status=409)) \
        == "above_balance_max"
    assert balance_of(json_client, created["id"]) == decimal.Decimal("9999999999999.99")


# -- flexigift check-ledger ----------------------------------------------------------

def test_check_ledger_passes_on_a_sound_ledger(app, json_client, database_url):
    created, _ = kohls_world(json_client)
    redemption = redeem(json_client, created["id"]).json
    refund(json_client, redemption["id"], amount=5)
    reload(json_client, created["id"], amount=1)
    result = CliRunner().invoke(main, ["check-ledger", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "ledger OK: 1 gift cards and their holds checked" in result.output


def test_check_ledger_reports_a_corrupted_card_and_exits_non_zero(app, json_client, database_url):
    created, _ = kohls_world(json_client)
    card(json_client, "sound")
    redeem(json_client, created["id"])
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        GiftCard.update(balance=GiftCard.balance + 1).where(GiftCard.id == created["id"]).execute()
        assert ledger_problems()
    result = CliRunner().invoke(main, ["check-ledger", "--database-url", database_url])
    assert result.exit_code == 1
    assert f"gift card {created['id']} (kohls-gc-001)" in result.output and "sound" not in result.output
    with db.connection_context():  # undo, so the after-test check sees a sound ledger again
        GiftCard.update(balance=GiftCard.balance - 1).where(GiftCard.id == created["id"]).execute()


def test_check_ledger_reports_a_card_without_its_issue_entry(app, json_client, database_url):
    created, _ = kohls_world(json_client)
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        issue = Transaction.get(Transaction.gift_card == created["id"])
        issue.delete_instance()
    result = CliRunner().invoke(main, ["check-ledger", "--database-url", database_url])
    assert result.exit_code == 1 and "0 issue entries" in result.output
    with db.connection_context():
        issue.save(force_insert=True)
