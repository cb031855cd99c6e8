"""Issuers as a card programme: product code restrictions (seed 004's wildcards),
the expiry policy, and the links and actions an issuer offers (SPEC 2 issuers)."""
from __future__ import annotations

import datetime

import pytest

from flexigift.services.issuers import InvalidPeriod, expiry_from, parse_period
from flexigift.services.restrictions import InvalidRestrictions, admits, parse_restrictions
from hypermedia import SIREN
from ledger import ledger_holds_after_each_test  # noqa: F401 (autouse fixture)
from money_helpers import card, field_of, issuer, logref, product, utc_today

SEED_004 = "abc123, fun_*, *-small"


# -- product_code_restrictions ------------------------------------------------

@pytest.mark.parametrize("product_id", ["abc123", "fun_", "fun_times", "example-small"])
def test_seed_004_restrictions_admit_what_the_seed_says(product_id):
    assert admits(SEED_004, product_id)


@pytest.mark.parametrize("product_id", ["abc12", "abc1234", "fun", "good-smalls"])
def test_seed_004_restrictions_refuse_what_the_seed_says(product_id):
    assert not admits(SEED_004, product_id)


@pytest.mark.parametrize("restrictions, product_id, admitted", [
    (None, "anything", True),
    ("", "anything", True),
    (" , ", "anything", True),
    ("*", "anything", True),
    ("*bed*", "kohls-dogbed-001", True),
    ("*bed*", "kohls-dog-001", False),
    ("ABC123", "abc123", False),           # case-sensitive, as product_ids are
    ("abc123,def", "def", True),
    ("  spaced  ", "spaced", True),
])
def test_restriction_patterns(restrictions, product_id, admitted):
    assert admits(restrictions, product_id) is admitted


@pytest.mark.parametrize("text", ["a*b", "**x*", "fun_*, a*b"])
def test_a_wildcard_inside_a_pattern_is_refused(text):
    with pytest.raises(InvalidRestrictions):
        parse_restrictions(text)


def test_restrictions_with_an_inner_wildcard_are_a_422_naming_the_field(json_client):
    created = issuer(json_client)
    response = json_client.patch(f"/issuers/{created['id']}", {"product_code_restrictions": "fun*times"},
                                 status=422)
    assert field_of(response) == "product_code_restrictions"
    assert json_client.get(f"/issuers/{created['id']}").json["product_code_restrictions"] is None


def test_restrictions_are_stored_exactly_as_given(json_client):
    created = issuer(json_client, product_code_restrictions=SEED_004)
    assert json_client.get(f"/issuers/{created['id']}").json["product_code_restrictions"] == SEED_004


# -- expires_after --------------------------------------------------------------

D = datetime.date


@pytest.mark.parametrize("policy, today, expected", [
    ("45d", D(2026, 1, 1), D(2026, 2, 15)),
    ("3w", D(2026, 1, 1), D(2026, 1, 22)),
    ("1m", D(2026, 1, 31), D(2026, 2, 28)),      # calendar months, clamped to the month's end
    ("1m", D(2028, 1, 31), D(2028, 2, 29)),
    ("2m", D(2026, 11, 15), D(2027, 1, 15)),
    (".5m", D(2026, 1, 1), D(2026, 1, 16)),      # half a (30-day) month: twice a month
    ("1y", D(2028, 2, 29), D(2029, 2, 28)),
    ("1.5y", D(2026, 1, 1), D(2027, 7, 3)),      # 547.5 days, rounded half up
    ("0d", D(2026, 1, 1), D(2026, 1, 1)),        # usable through the end of the day of issue
    (None, D(2026, 1, 1), None),
    ("", D(2026, 1, 1), None),
])
def test_expiry_from_policy(policy, today, expected):
    assert expiry_from(policy, today) == expected


@pytest.mark.parametrize("policy", ["1x", "d", "1.d", "101y", "99999999999999999999y", "36526d"])
def test_unreadable_or_absurd_periods_are_refused(policy):
    with pytest.raises(InvalidPeriod):
        parse_period(policy)


@pytest.mark.parametrize("policy", ["101y", "9999999999d", "99999999999999999999999m", "1x",
                                    "0000000000000000000001d"])
def test_an_absurd_expires_after_is_a_422_not_a_500(json_client, policy):
    response = json_client.post("/issuers", {**{"name": "Kohls"}, "expires_after": policy}, status=422)
    assert field_of(response) == "expires_after"


def test_expires_after_sets_new_cards_expiry_date(json_client):
    issuer(json_client, expires_after="45d")
    created = card(json_client)
    assert created["expiry_date"] == (utc_today() + datetime.timedelta(days=45)).isoformat()


def test_an_explicit_expiry_date_wins_and_null_means_never(json_client):
    issuer(json_client, expires_after="45d")
    assert card(json_client, "a", expiry_date="2030-01-31")["expiry_date"] == "2030-01-31"
    assert card(json_client, "b", expiry_date=None)["expiry_date"] is None


def test_changing_the_policy_does_not_touch_cards_already_issued(json_client):
    created_issuer = issuer(json_client, expires_after="1y")
    created = card(json_client)
    json_client.patch(f"/issuers/{created_issuer['id']}", {"expires_after": "1d"})
    assert json_client.get(f"/gift_cards/{created['id']}").json["expiry_date"] == created["expiry_date"]


# -- links and actions ----------------------------------------------------------

def test_issuer_links_its_cards_products_and_bulk_actions(client, json_client):
    created = issuer(json_client)
    links = client.get(f"/issuers/{created['id']}").json["_links"]
    base = f"http://localhost:3000/issuers/{created['id']}"
    assert links["fg:gift_cards"]["href"] == f"{base}/gift_cards"
    assert links["fg:products"]["href"] == f"{base}/products"
    assert links["fg:generate_codes"]["href"] == f"{base}/generate_codes"
    assert links["fg:bulk_create"]["href"] == f"{base}/bulk_create"
    assert all(link["title"] for rel, link in links.items() if rel != "curies")


def test_issuer_siren_actions_describe_generate_codes_and_bulk_create(client, json_client):
    created = issuer(json_client)
    document = client.get(f"/issuers/{created['id']}", headers={"Accept": SIREN}).json
    actions = {action["name"]: action for action in document["actions"]}
    generate, bulk = actions["generate_codes"], actions["bulk_create"]
    assert generate["method"] == bulk["method"] == "POST"
    assert generate["href"].endswith(f"/issuers/{created['id']}/generate_codes")
    fields = {field["name"]: field for field in generate["fields"]}
    assert {"length", "number_of_codes", "prefix", "balance"} <= set(fields)
    assert fields["length"]["value"] == 6 and fields["number_of_codes"]["value"] == 10
    assert {"card_ids", "balance"} <= {field["name"] for field in bulk["fields"]}


def test_the_issuers_cards_and_products_are_listed_where_its_links_point(client, json_client):
    created = issuer(json_client)
    card(json_client, "a")
    card(json_client, "b", issuer="Gap")
    product(json_client)
    links = client.get(f"/issuers/{created['id']}").json["_links"]
    cards = client.get(links["fg:gift_cards"]["href"]).json["_embedded"]["fg:gift_cards"]
    assert [item["card_id"] for item in cards] == ["a"]
    products = client.get(links["fg:products"]["href"]).json["_embedded"]["fg:products"]
    assert [item["product_id"] for item in products] == ["kohls-dogbed-001"]


@pytest.mark.parametrize("action", ["generate_codes", "bulk_create"])
def test_an_action_url_answers_get_with_its_form_and_options_with_its_fields(client, json_client, action):
    created = issuer(json_client)
    url = f"/issuers/{created['id']}/{action}"
    form = client.get(url, headers={"Accept": SIREN}).json
    assert [item["name"] for item in form["actions"]] == [action]
    options = client.options(url, headers={"Accept": "application/json"})
    assert "POST" in options.headers["Allow"]
    assert options.json["fields"]["POST"]
    client.get(f"/issuers/999/{action}", status=404)


def test_an_issuer_with_cards_cannot_be_deleted(json_client):
    created = issuer(json_client)
    card(json_client)
    response = json_client.delete(f"/issuers/{created['id']}", status=409)
    assert logref(response) == "in_use"
