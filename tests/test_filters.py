"""Filters in the Foxy syntax (SPEC 3.3) on strings, money, dates, times and
booleans: equality, ``*`` at either end, the operators, ``isdefined``, ranges,
children's fields with their zoom. Values are compared as their type (money
as money, dates as dates), ``%`` and ``_`` are plain characters, and every
filtered page still costs one query for the page and one for the count.
"""
from __future__ import annotations

import datetime

from urllib.parse import quote

import pytest

from flexigift.models import GiftCard

from collection_support import (
    HAL, MEDIA_TYPES, PLAIN, errors_of, media_type_id, read_page, set_created,
)
from query_count import count_queries
from query_plans import gift_card_plans

#: card_id, issuer, balance, expiry_date, user, date_created (UTC), reference, single_use
CARDS = [
    ("gap-001", "Gap", "50", "2027-01-31", "ada", "2026-01-01T00:00:00", "spring", False),
    ("gap-002", "Gap", "99.99", "2027-06-30", "ada", "2026-06-15T12:00:00", None, False),
    ("GAP-003", "Gap", "100", "2027-12-31", "grace", "2026-12-31T23:59:59", "Spring sale", False),
    ("kohls-101", "Kohls", "100.01", None, None, "2027-01-01T00:00:00", "50% off", False),
    ("kohls-102", "Kohls", "9", "2028-01-01", None, "2025-12-31T23:59:59", "50_off", True),
    ("a%b", "Hanes", "5", "2027-03-01", None, "2025-06-01T08:00:00", None, False),
    ("a_b", "Hanes", "5", "2027-03-01", None, "2025-06-01T08:00:00", None, False),
    ("axb", "Hanes", "5", "2027-03-01", None, "2025-06-01T08:00:00", None, False),
]
ALL = [card[0] for card in CARDS]


def but(*excluded: str) -> list[str]:
    return [card_id for card_id in ALL if card_id not in excluded]


@pytest.fixture
def cards(json_client, app):
    """Users ada and grace, three products, and the cards above, through the API."""
    json_client.post("/users", {"user_id": "ada", "name": "Ada Lovelace", "email": "ada@example.com"})
    json_client.post("/users", {"user_id": "grace", "name": "Grace Hopper"})
    json_client.post("/users", {"user_id": "alan", "name": "Alan Turing"})
    for card_id, issuer, balance, expiry, user, _, reference, single_use in CARDS:
        json_client.post("/gift_cards", {
            "card_id": card_id, "issuer": issuer, "balance": balance, "expiry_date": expiry,
            "user_id": user, "reference": reference, "single_use": single_use,
        })
    for product_id, price, issuer in [("tee", "5.00", "Gap"), ("jeans", "59.95", "Gap"),
                                      ("towel", "39.99", "Kohls")]:
        json_client.post("/products", {"product_id": product_id, "name": product_id.title(),
                                       "price": price, "eligible_issuer": issuer})
    set_created(app, GiftCard, GiftCard.card_id,
                {card[0]: datetime.datetime.fromisoformat(card[5]) for card in CARDS})
    return json_client


def listed(client, url, collection="gift_cards", key="card_id", media_type=HAL, queries=2):
    """The ``key`` of every item the filtered collection lists (the whole of it, in id order).

    ``queries`` is the cost of a page with items; an empty result is known from
    the count alone, so its page query is never sent.
    """
    with count_queries() as counted:
        response = client.get(f"{url}&limit=300", headers={"Accept": media_type})
    page = read_page(response, collection)
    expected = queries if page.items else queries - 1
    assert counted.count == expected, f"expected {expected}, got {counted.report()}"
    if media_type != PLAIN:
        assert page.properties["total_items"] == len(page.items)
    assert page.total_header == str(len(page.items))
    return page.texts(key)


def refused(client, url, media_type=HAL):
    """The ``field`` of every error entry of a 400 for ``url``."""
    response = client.get(url, headers={"Accept": media_type}, status=400)
    return [entry.get("field") for entry in errors_of(response)]


# -- strings ------------------------------------------------------------------
STRING_FILTERS = [
    ("card_id=gap-002", ["gap-002"]),
    ("issuer=Kohls", ["kohls-101", "kohls-102"]),
    ("user_id=ada", ["gap-001", "gap-002"]),
    ("card_id=a%25b", ["a%b"]),
    ("card_id=a_b", ["a_b"]),
    ("card_id=gap*", ["gap-001", "gap-002", "GAP-003"]),
    ("card_id=GAP*", ["gap-001", "gap-002", "GAP-003"]),
    ("card_id=*10*", ["kohls-101", "kohls-102"]),
    ("card_id=*1", ["gap-001", "kohls-101"]),
    ("card_id=*B", ["a%b", "a_b", "axb"]),
    ("reference=SPRING*", ["gap-001", "GAP-003"]),
    ("card_id=*", ALL),
    ("issuer:not=Gap", ["kohls-101", "kohls-102", "a%b", "a_b", "axb"]),
    ("card_id:not=gap*", ["kohls-101", "kohls-102", "a%b", "a_b", "axb"]),
    ("card_id:in=gap-001,kohls-101,nope", ["gap-001", "kohls-101"]),
    ("issuer:in=Kohls,Hanes", ["kohls-101", "kohls-102", "a%b", "a_b", "axb"]),
    ("card_id:greaterthanorequal=kohls-101", ["kohls-101", "kohls-102"]),
    ("card_id:greaterthan=kohls-101", ["kohls-102"]),
    ("card_id:lessthan=gap-002&user_id=ada", ["gap-001"]),
    ("card_id:lessthanorequal=gap-002&user_id=ada", ["gap-001", "gap-002"]),
    ("user_id:isdefined=true", ["gap-001", "gap-002", "GAP-003"]),
    ("user_id:isdefined=false", ["kohls-101", "kohls-102", "a%b", "a_b", "axb"]),
    ("reference:isdefined=FALSE", ["gap-002", "a%b", "a_b", "axb"]),
    ("issuer=Gap&user_id=ada", ["gap-001", "gap-002"]),
]


@pytest.mark.parametrize("query, expected", STRING_FILTERS, ids=[q for q, _ in STRING_FILTERS])
def test_filter_on_strings(cards, client, query, expected):
    assert listed(client, f"/gift_cards?{query}") == expected


# -- % and _ are characters, not SQL wildcards -----------------------------------
LITERAL = [
    ("card_id=a_*", ["a_b"]),
    ("card_id=a%25*", ["a%b"]),
    ("card_id=*%25*", ["a%b"]),
    ("card_id=*_*", ["a_b"]),
    ("card_id=*%25", []),
    ("card_id=a%25", []),
    ("card_id=_*", []),
    ("reference=*50%25*", ["kohls-101"]),
    ("reference=50_*", ["kohls-102"]),
    ("reference=*\\*", []),
    ("card_id:not=a_*", but("a_b")),
]


@pytest.mark.parametrize("query, expected", LITERAL, ids=[q for q, _ in LITERAL])
def test_percent_and_underscore_in_a_value_are_literal(cards, client, query, expected):
    assert listed(client, f"/gift_cards?{query}") == expected


@pytest.mark.parametrize("value", ["%00", "*%00*", "gap%00*"])
def test_a_nul_character_in_a_value_matches_nothing_or_is_refused(cards, client, value):
    response = client.get(f"/gift_cards?card_id={value}", headers={"Accept": HAL}, expect_errors=True)
    assert response.status_int in (200, 400), response.text
    if response.status_int == 200:
        assert read_page(response, "gift_cards").items == []
    else:
        assert [entry.get("field") for entry in errors_of(response)] == ["card_id"]


# -- :not includes the rows without a value --------------------------------------
@pytest.mark.parametrize("query, expected", [
    ("user_id:not=ada", ["GAP-003", "kohls-101", "kohls-102", "a%b", "a_b", "axb"]),
    ("reference:not=*off", ["gap-001", "gap-002", "GAP-003", "a%b", "a_b", "axb"]),
    ("expiry_date:not=2027-03-01", ["gap-001", "gap-002", "GAP-003", "kohls-101", "kohls-102"]),
])
def test_not_keeps_the_items_that_have_no_value(cards, client, query, expected):
    # The item shows null there, which is not the value: a client expects it listed.
    assert listed(client, f"/gift_cards?{query}") == expected


# -- money ----------------------------------------------------------------------
# A money filter costs one query more: the minor units of the currencies issuers use,
# to read the amount in each row's currency.
MONEY_FILTERS = [
    ("balance=100", ["GAP-003"]),
    ("balance=100.00", ["GAP-003"]),
    ("balance=99.99", ["gap-002"]),
    ("balance:not=5", ["gap-001", "gap-002", "GAP-003", "kohls-101", "kohls-102"]),
    ("balance:in=50,100", ["gap-001", "GAP-003"]),
    ("balance:lessthan=10", ["kohls-102", "a%b", "a_b", "axb"]),  # 9 < 10 as money, not as text
    ("balance:lessthanorequal=50", ["gap-001", "kohls-102", "a%b", "a_b", "axb"]),
    ("balance:greaterthan=99.99", ["GAP-003", "kohls-101"]),
    ("balance:greaterthanorequal=99.99", ["gap-002", "GAP-003", "kohls-101"]),
    ("balance:greaterthan=100", ["kohls-101"]),
    ("balance=50..100", ["gap-001", "gap-002", "GAP-003"]),
    ("balance=99.99..100.01", ["gap-002", "GAP-003", "kohls-101"]),
    ("balance=100..50", []),
    ("initial_balance:lessthan=9.5", ["kohls-102", "a%b", "a_b", "axb"]),
    ("balance:greaterthan=5&balance:lessthan=100", ["gap-001", "gap-002", "kohls-102"]),
]


@pytest.mark.parametrize("query, expected", MONEY_FILTERS, ids=[q for q, _ in MONEY_FILTERS])
def test_filter_on_money_compares_amounts(cards, client, query, expected):
    # (one query more: the minor units of the currencies in use, to read the amount in each)
    assert listed(client, f"/gift_cards?{query}", queries=3) == expected


@pytest.mark.parametrize("query, expected", [
    ("price=5..40", ["tee", "towel"]),
    ("price:lessthan=39.99", ["tee"]),
    ("price:greaterthanorequal=39.99", ["jeans", "towel"]),
    ("eligible_issuer=gap*&price:greaterthan=10", ["jeans"]),
])
def test_filter_products_by_price(cards, client, query, expected):
    assert listed(client, f"/products?{query}", "products", "product_id", queries=3) == expected


# -- dates and times ------------------------------------------------------------
DATE_FILTERS = [
    ("expiry_date=2027-06-30", ["gap-002"]),
    ("expiry_date=2027-01-01..2027-12-31", ["gap-001", "gap-002", "GAP-003", "a%b", "a_b", "axb"]),
    ("expiry_date=2027-01-31..2027-03-01", ["gap-001", "a%b", "a_b", "axb"]),
    ("expiry_date:lessthan=2027-06-30", ["gap-001", "a%b", "a_b", "axb"]),
    ("expiry_date:lessthanorequal=2027-06-30", ["gap-001", "gap-002", "a%b", "a_b", "axb"]),
    ("expiry_date:greaterthan=2027-12-31", ["kohls-102"]),
    ("expiry_date:greaterthanorequal=2027-12-31", ["GAP-003", "kohls-102"]),
    ("expiry_date:in=2027-01-31,2028-01-01", ["gap-001", "kohls-102"]),
    ("expiry_date:isdefined=false", ["kohls-101"]),
    ("expiry_date:isdefined=true", but("kohls-101")),
    ("date_created=2026-01-01..2027-01-01", ["gap-001", "gap-002", "GAP-003", "kohls-101"]),
    ("date_created=2026-06-15", ["gap-002"]),
    ("date_created:not=2026-06-15", but("gap-002")),
    ("date_created:lessthan=2026-01-01", ["kohls-102", "a%b", "a_b", "axb"]),
    ("date_created:lessthanorequal=2025-12-31", ["kohls-102", "a%b", "a_b", "axb"]),
    ("date_created:greaterthan=2026-12-31", ["kohls-101"]),
    ("date_created:greaterthanorequal=2026-12-31", ["GAP-003", "kohls-101"]),
    ("date_created:in=2026-06-15,2027-01-01", ["gap-002", "kohls-101"]),
    ("date_created=2026-06-15T12:00:00%2B00:00", ["gap-002"]),
    ("date_created=2026-06-15T14:00:00%2B02:00", ["gap-002"]),
    ("date_created=2026-06-15T12:00:01%2B00:00", []),
    ("date_created:lessthan=2026-12-31T23:59:59Z", ["gap-001", "gap-002", "kohls-102", "a%b", "a_b", "axb"]),
    ("date_created=2025-12-31T23:00:00-01:00..2026-06-15", ["gap-001", "gap-002"]),
]


@pytest.mark.parametrize("query, expected", DATE_FILTERS, ids=[q for q, _ in DATE_FILTERS])
def test_filter_on_dates_compares_dates(cards, client, query, expected):
    assert listed(client, f"/gift_cards?{query}") == expected


# -- booleans, numbers, other collections ---------------------------------------
OTHER_FILTERS = [
    ("/gift_cards?single_use=true", "gift_cards", "card_id", ["kohls-102"]),
    ("/gift_cards?rechargeable=false", "gift_cards", "card_id", []),
    ("/gift_cards?id:lessthanorequal=2", "gift_cards", "card_id", ["gap-001", "gap-002"]),
    ("/users?name=*love*", "users", "user_id", ["ada"]),
    ("/users?email:isdefined=false", "users", "user_id", ["grace", "alan"]),
    ("/issuers?name:in=Gap,Hanes", "issuers", "name", ["Gap", "Hanes"]),
    ("/issuers?name=*S", "issuers", "name", ["Kohls", "Hanes"]),
]


@pytest.mark.parametrize("url, collection, key, expected", OTHER_FILTERS, ids=[case[0] for case in OTHER_FILTERS])
def test_filter_other_collections(cards, client, url, collection, key, expected):
    queries = 3 if collection == "users" else 2  # users: plus their card_ids
    assert listed(client, url, collection, key, queries=queries) == expected


def test_filter_users_by_a_card_they_hold(cards, client):
    assert listed(client, "/users?gift_cards=gap-001", "users", "user_id", queries=3) == ["ada"]
    assert listed(client, "/users?gift_cards:not=gap-001", "users", "user_id", queries=3) == ["grace", "alan"]


# -- children's fields ----------------------------------------------------------
CHILD_FILTERS = [
    ("/users?zoom=gift_cards&gift_cards:card_id=gap*", "users", "user_id", ["ada", "grace"], 4),
    ("/users?zoom=gift_cards&gift_cards:balance:greaterthan=99.99", "users", "user_id", ["grace"], 5),
    ("/users?zoom=gift_cards&gift_cards:expiry_date=2027-01-01..2027-06-30", "users", "user_id", ["ada"], 4),
    ("/gift_cards?zoom=user&user:name=ada*", "gift_cards", "card_id", ["gap-001", "gap-002"], 3),
    ("/gift_cards?zoom=issuer&issuer:name:in=Kohls,Hanes", "gift_cards", "card_id",
     ["kohls-101", "kohls-102", "a%b", "a_b", "axb"], 3),
    ("/issuers?zoom=gift_cards:user&gift_cards:user:user_id=grace", "issuers", "name", ["Gap"], 4),
    ("/issuers?zoom=products&products:price:greaterthan=50", "issuers", "name", ["Gap"], 4),
    ("/issuers?zoom=gift_cards&gift_cards:card_id=*b&gift_cards:balance=5", "issuers", "name", ["Hanes"], 4),
]


@pytest.mark.parametrize("url, collection, key, expected, queries", CHILD_FILTERS,
                         ids=[case[0] for case in CHILD_FILTERS])
def test_filter_on_a_zoomed_childs_field(cards, client, url, collection, key, expected, queries):
    assert listed(client, url, collection, key, queries=queries) == expected


@pytest.mark.parametrize("url, parameter", [
    ("/users?gift_cards:card_id=gap*", "gift_cards:card_id"),
    ("/users?zoom=gift_cards&gift_cards:nope=1", "gift_cards:nope"),
    ("/users?zoom=gift_cards&gift_cards:balance=lots", "gift_cards:balance"),
    ("/gift_cards?zoom=issuer&user:name=ada", "user:name"),
    ("/issuers?zoom=gift_cards&gift_cards:user:user_id=grace", "gift_cards:user:user_id"),
])
def test_a_childs_filter_needs_its_zoom_and_a_known_field(cards, client, url, parameter):
    assert refused(client, url) == [parameter]


# -- in every media type --------------------------------------------------------
@pytest.mark.parametrize("media_type", MEDIA_TYPES, ids=media_type_id)
def test_filters_hold_in_every_media_type(cards, client, media_type):
    url = "/gift_cards?card_id=*b&balance:lessthan=9.99&date_created=2025-06-01..2025-06-01"
    assert listed(client, url, media_type=media_type, queries=3) == ["a%b", "a_b", "axb"]
    url = "/users?zoom=gift_cards&gift_cards:card_id=gap*"
    assert listed(client, url, "users", "user_id", media_type, queries=4) == ["ada", "grace"]
    assert refused(client, "/gift_cards?balance:greaterthan=lots", media_type) == ["balance:greaterthan"]


@pytest.mark.parametrize("query, expected", [
    ("name=*ÉMILE*", ["emile-1", "emile-2"]),
    ("name=émile*", ["emile-1", "emile-2"]),
    ("name=*ÜBER", ["uber"]),
    ("name=*Straße*", ["strasse"]),
    ("name:not=*émile*", ["uber", "strasse", "plain"]),
])
def test_wildcards_ignore_case_beyond_ascii(json_client, client, query, expected):
    for user_id, name in [("emile-1", "Émile Zola"), ("emile-2", "émile durand"), ("uber", "Das Über"),
                          ("strasse", "STRASSE straße"), ("plain", "Emil")]:
        json_client.post("/users", {"user_id": user_id, "name": name})
    parameter, _, value = query.partition("=")
    url = f"/users?{parameter}={quote(value)}"
    assert listed(client, url, collection="users", key="user_id", queries=3) == expected  # 3: users' card_ids


# -- a wildcard at the end is a range of the index on lower(card_id) ---------------
PREFIXED = ["gap", "gap-1", "GAP-2", "Gap_3", "gap%4", "gaq", "ga", "gb", "gap~", "gap~x", "gap}", "gaP\\5",
            "éa-1", "Éa-2", "ea-3", "g*p-6", "gxp-7", "zz", "z~", "z~~"]
PREFIXES = [
    ("gap*", ["gap", "gap-1", "GAP-2", "Gap_3", "gap%4", "gap~", "gap~x", "gap}", "gaP\\5"]),
    ("GAP-*", ["gap-1", "GAP-2"]),
    ("gap_*", ["Gap_3"]),            # _ is a character, not any character
    ("gap%*", ["gap%4"]),            # so is %
    ("gap~*", ["gap~", "gap~x"]),    # the last printable ASCII character: the range ends past it
    ("z~*", ["z~", "z~~"]),
    ("gap\\*", ["gaP\\5"]),
    ("gaq*", ["gaq"]),               # nothing after the prefix
    ("g*p*", ["g*p-6"]),             # * inside is a character
    ("éa*", ["éa-1", "Éa-2"]),       # beyond ASCII: the scan that folds case as Python does
    ("ÉA-2*", ["Éa-2"]),
]


@pytest.fixture
def prefixed(json_client):
    issuer = json_client.post("/issuers", {"name": "Prefixes"}).json
    json_client.post(f"/issuers/{issuer['id']}/bulk_create", {"card_ids": PREFIXED, "balance": "1.00"})
    return json_client


@pytest.mark.parametrize("query, expected", PREFIXES, ids=[query for query, _ in PREFIXES])
def test_prefix_wildcards_match_exactly_what_they_always_did(prefixed, client, query, expected):
    url = f"/gift_cards?card_id={quote(query)}"
    assert sorted(listed(client, url)) == sorted(expected)
    assert sorted(listed(client, f"/gift_cards?card_id:not={quote(query)}")) == sorted(
        set(PREFIXED) - set(expected))


@pytest.mark.parametrize("query", ["card_id=gap*", "card_id=GAP-*", "card_id=gap%25*", "card_id=z~*"])
def test_a_prefix_wildcard_reads_the_index_on_lower_card_id(prefixed, client, query):
    issuer = prefixed.get("/issuers?name=Prefixes").json[0]
    prefixed.post(f"/issuers/{issuer['id']}/generate_codes", {"number_of_codes": 2000, "length": 10})
    plans = gift_card_plans(client, f"/gift_cards?limit=5&{query}")
    # the count and the page; on PostgreSQL the count and the page's ids, then its rows by id
    assert len(plans) == 2
    assert "lower(" in plans[0][0]
    for sql, plan in plans:
        assert "SCAN t1" not in plan.replace("SCAN t1 USING", "") and "Seq Scan on gift_card" not in plan, plan
        if "lower(" in sql:  # each statement that applies the filter
            assert "gift_card_card_id_lower" in plan, plan
        else:
            assert "Index Scan using gift_card_pkey" in plan, plan


def test_a_prefix_is_counted_from_the_index_alone(prefixed, client):
    """The count of a prefix reads the index on lower(card_id) and never the cards: on
    PostgreSQL an index-only scan, which needs card_id in the index too (migration 10); on
    SQLite a range of the index alone (it seeks a card only for a column it needs, and the
    count needs none)."""
    issuer = prefixed.get("/issuers?name=Prefixes").json[0]
    prefixed.post(f"/issuers/{issuer['id']}/generate_codes", {"number_of_codes": 2000, "length": 10})
    (_, count), _ = gift_card_plans(client, "/gift_cards?limit=5&card_id=gap*")
    if "Scan" in count and "SCAN" not in count:  # PostgreSQL
        assert "Index Only Scan using gift_card_card_id_lower" in count, count
    else:
        assert "SEARCH t1 USING INDEX gift_card_card_id_lower (<expr>>? AND <expr><?)" in count, count
