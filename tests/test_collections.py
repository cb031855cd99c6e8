"""Collection pages (SPEC 3.3): paging properties and links, the Link and
X-Total-Count headers, walking a collection, order, fields, sub-collections,
counting switched off, every bad parameter a 400 naming it, and the cost of a
page in queries whatever its size.

Each behaviour runs in HAL+JSON, HAL+XML, Siren and plain JSON where the media
type matters, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from flexigift.models import GiftCard, Issuer, Product, User
from flexigift.resources.gift_cards import GiftCardEndpoint

from collection_support import (
    HAL, HYPERMEDIA, MEDIA_TYPES, ORIGIN, PAGING_RELS, PLAIN, SIREN, errors_of, ids_by,
    insert_rows, media_type_id, path_of, query_of, read_page,
)
from query_count import assert_query_count, count_queries

media_types = pytest.mark.parametrize("media_type", MEDIA_TYPES, ids=media_type_id)
hypermedia = pytest.mark.parametrize("media_type", HYPERMEDIA, ids=media_type_id)

#: 25 cards: ``card-01``…``card-25``; Kohls every third, Gap otherwise (17 cards);
#: balances 0–40 with many ties, so ordering by balance alone relies on the id tiebreak.
CARDS = [(f"card-{n:02d}", "Kohls" if n % 3 == 0 else "Gap", (n * 7) % 5 * 10) for n in range(1, 26)]
GAP_BY_BALANCE_DESC = [card_id for card_id, _, _ in
                       sorted((c for c in CARDS if c[1] == "Gap"), key=lambda c: -c[2])]


def get(client, url, media_type=HAL, status=200, **kwargs):
    return client.get(url, headers={"Accept": media_type}, status=status, **kwargs)


@pytest.fixture
def shop(json_client):
    """Two users and the 25 cards, made through the API; ada holds every fifth card."""
    json_client.post("/users", {"user_id": "ada", "name": "Ada Lovelace"})
    json_client.post("/users", {"user_id": "grace", "name": "Grace Hopper"})
    for n, (card_id, issuer, balance) in enumerate(CARDS, 1):
        body = {"card_id": card_id, "issuer": issuer, "balance": balance}
        if n % 5 == 0:
            body["user_id"] = "ada"
        json_client.post("/gift_cards", body)
    return json_client


def user_pk(client, user_id: str) -> int:
    return client.get(f"/users?user_id={user_id}", headers={"Accept": PLAIN}).json[0]["id"]


def issuer_pk(client, name: str) -> int:
    return client.get(f"/issuers?name={name}", headers={"Accept": PLAIN}).json[0]["id"]


# -- paging properties and links ----------------------------------------------
@media_types
def test_page_properties_describe_the_page_and_the_collection(shop, client, media_type):
    page = read_page(get(client, "/gift_cards?limit=7&offset=7", media_type), "gift_cards")
    assert page.texts("card_id") == [f"card-{n:02d}" for n in range(8, 15)]
    assert page.total_header == "25"
    if media_type != PLAIN:
        assert page.properties == {"total_items": 25, "returned_items": 7, "limit": 7, "offset": 7}


def test_default_page_is_the_first_20(shop, client):
    page = read_page(get(client, "/gift_cards"), "gift_cards")
    assert page.properties == {"total_items": 25, "returned_items": 20, "limit": 20, "offset": 0}
    assert page.texts("card_id") == [f"card-{n:02d}" for n in range(1, 21)]


@media_types
@pytest.mark.parametrize("offset, present", [
    (0, {"first", "next", "last"}),
    (10, {"first", "prev", "next", "last"}),
    (20, {"first", "prev", "last"}),
])
def test_prev_and_next_only_where_such_a_page_exists(shop, client, media_type, offset, present):
    page = read_page(get(client, f"/gift_cards?limit=10&offset={offset}", media_type), "gift_cards")
    assert set(page.paging_links) == present
    targets = {rel: dict(query_of(href))["offset"] for rel, href in page.paging_links.items()}
    expected = {"first": "0", "prev": str(offset - 10), "next": str(offset + 10), "last": "20"}
    assert targets == {rel: expected[rel] for rel in present}


@media_types
def test_a_single_page_has_neither_prev_nor_next(shop, client, media_type):
    page = read_page(get(client, "/gift_cards?limit=300", media_type), "gift_cards")
    assert set(page.paging_links) == {"first", "last"}
    assert len(page.items) == 25


@pytest.mark.parametrize("limit, last_offset", [(1, 24), (5, 20), (7, 21), (25, 0), (26, 0)])
def test_last_link_points_at_the_last_page(shop, client, limit, last_offset):
    page = read_page(get(client, f"/gift_cards?limit={limit}"), "gift_cards")
    assert dict(query_of(page.links["last"]))["offset"] == str(last_offset)
    last = read_page(get(client, path_of(page.links["last"])), "gift_cards")
    assert last.texts("card_id")[-1] == "card-25"
    assert "next" not in last.links


@media_types
def test_links_are_absolute_and_keep_every_other_parameter(shop, client, media_type):
    asked = [("issuer", "Gap"), ("balance:greaterthanorequal", "10"), ("zoom", "issuer"),
             ("order", "balance desc,card_id"), ("fields", "card_id,balance")]
    url = f"/gift_cards?{urlencode(asked + [('limit', '3'), ('offset', '3')])}"
    page = read_page(get(client, url, media_type), "gift_cards")
    links = dict(page.paging_links)
    if media_type in HYPERMEDIA:
        links["self"] = page.links["self"]
    assert set(links) >= {"first", "prev", "next", "last"}
    for rel, href in links.items():
        assert href.startswith(f"{ORIGIN}/gift_cards?"), (rel, href)
        query = query_of(href)
        assert [pair for pair in query if pair[0] not in ("limit", "offset", "after", "before")] == asked, (rel, href)
        assert dict(query)["limit"] == "3", (rel, href)
    if "self" in links:
        assert dict(query_of(links["self"]))["offset"] == "3"
    # prev and next walk by key: before the page's first item, after its last
    assert dict(query_of(links["next"]))["offset"] == "6" and "after" in dict(query_of(links["next"]))
    assert dict(query_of(links["prev"]))["offset"] == "0" and "before" in dict(query_of(links["prev"]))
    assert "after" not in dict(query_of(links["first"])) and "after" not in dict(query_of(links["last"]))


@hypermedia
def test_link_header_carries_the_paging_links_of_the_body(shop, client, media_type):
    response = get(client, "/gift_cards?limit=10&offset=10&issuer=Gap", media_type)
    page = read_page(response, "gift_cards")
    assert page.header_links == {rel: page.links[rel] for rel in PAGING_RELS if rel in page.links}
    assert set(page.header_links) == {"first", "prev", "last"}  # 17 Gap cards: no third page
    assert response.headers["X-Total-Count"] == "17"


def test_plain_json_page_is_the_array_with_the_paging_headers(shop, client):
    response = get(client, "/gift_cards?limit=10&offset=10", PLAIN)
    assert isinstance(response.json, list) and len(response.json) == 10
    assert response.json[0]["card_id"] == "card-11"
    assert response.headers["X-Total-Count"] == "25"
    links = read_page(response, "gift_cards").header_links
    assert set(links) == {"first", "prev", "next", "last"}
    assert all(href.startswith(f"{ORIGIN}/gift_cards?") for href in links.values())


@media_types
@pytest.mark.parametrize("query", ["issuer=Nobody", "limit=5&offset=500"], ids=["no-match", "past-the-end"])
def test_an_empty_page_still_embeds_the_relation(shop, client, media_type, query):
    response = get(client, f"/gift_cards?{query}", media_type)
    page = read_page(response, "gift_cards")  # checks the embedded key / entities are there
    assert page.items == []
    if media_type == HAL:
        assert response.json["_embedded"] == {"fg:gift_cards": []}
        assert response.json["returned_items"] == 0
    if media_type == SIREN:
        assert response.json["entities"] == []
    if media_type == PLAIN:
        assert response.json == []
    assert "next" not in page.paging_links
    assert page.total_header == ("0" if query.startswith("issuer") else "25")


def test_the_largest_offset_is_an_empty_page(shop, client):
    page = read_page(get(client, "/gift_cards?offset=9223372036854775807"), "gift_cards")
    assert page.items == [] and page.properties["total_items"] == 25
    assert set(page.links) == {"self", "search", "first", "prev", "last"}


def test_an_empty_collection_has_first_and_last_at_offset_0(client):
    page = read_page(get(client, "/gift_cards"), "gift_cards")
    assert page.properties["total_items"] == 0
    assert {rel: dict(query_of(href))["offset"] for rel, href in page.paging_links.items()} == \
        {"first": "0", "last": "0"}


@media_types
def test_links_keep_a_url_prefix(shop, client, media_type):
    prefixed = {"SCRIPT_NAME": "/api"}
    response = get(client, "/gift_cards?limit=10&zoom=user", media_type, extra_environ=prefixed)
    page = read_page(response, "gift_cards")
    hrefs = list(page.header_links.values()) + list(page.links.values())
    hrefs += [href for item in page.items for href in item.links.values()]
    assert hrefs and all(href.startswith(f"{ORIGIN}/api/") for href in hrefs), hrefs
    if media_type in HYPERMEDIA:
        assert page.links["self"] == f"{ORIGIN}/api/gift_cards?zoom=user&limit=10&offset=0"
        assert page.items[0].self_href == f"{ORIGIN}/api/gift_cards/1"
    following = get(client, path_of(page.paging_links["next"], "/api"), media_type, extra_environ=prefixed)
    assert read_page(following, "gift_cards").texts("card_id")[0] == "card-11"


# -- walking a collection -----------------------------------------------------
WALK = "/gift_cards?issuer=Gap&order=balance%20desc"


def walk(client, media_type, start_url: str, rel: str) -> list[list[str]]:
    """The card_ids of every page from ``start_url`` following ``rel`` to the end."""
    pages, url = [], start_url
    while url is not None:
        page = read_page(get(client, url, media_type), "gift_cards")
        pages.append(page.texts("card_id"))
        assert len(pages) <= 30, "the walk does not end"
        href = page.paging_links.get(rel)
        url = path_of(href) if href else None
    return pages


@media_types
@pytest.mark.parametrize("limit", [1, 3, 7, 20])
def test_walking_next_from_first_visits_every_item_once(shop, client, media_type, limit):
    first = read_page(get(client, f"{WALK}&limit={limit}&offset=5", media_type), "gift_cards")
    pages = walk(client, media_type, path_of(first.paging_links["first"]), "next")
    assert [card for page in pages for card in page] == GAP_BY_BALANCE_DESC
    assert all(len(page) == limit for page in pages[:-1])


@media_types
@pytest.mark.parametrize("limit", [1, 3, 7, 20])
def test_walking_prev_from_last_visits_every_item_once(shop, client, media_type, limit):
    first = read_page(get(client, f"{WALK}&limit={limit}", media_type), "gift_cards")
    pages = walk(client, media_type, path_of(first.paging_links["last"]), "prev")
    assert [card for page in reversed(pages) for card in page] == GAP_BY_BALANCE_DESC


@pytest.mark.parametrize("order, cards_without_a_user", [("user_id", "last"), ("user_id desc", "first")])
def test_items_without_a_value_sort_as_the_largest_on_every_database(shop, client, order, cards_without_a_user):
    page = read_page(get(client, f"/gift_cards?limit=300&order={order}"), "gift_cards")
    owners = [item.properties["user_id"] for item in page.items]
    expected = ["ada"] * 5 + [None] * 20 if cards_without_a_user == "last" else [None] * 20 + ["ada"] * 5
    assert owners == expected


@pytest.mark.parametrize("order", ["user_id", "user_id desc,balance", "balance desc", "id desc"])
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_pages_at_every_offset_agree_with_one_big_page(shop, client, order, limit):
    # Pages past the middle are read from the far end backwards: with NULLs in the
    # order (most cards have no user) they must still line up with the first half.
    whole = read_page(get(client, f"/gift_cards?limit=300&order={order}"), "gift_cards").texts("card_id")
    pages = [read_page(get(client, f"/gift_cards?limit={limit}&offset={offset}&order={order}"),
                       "gift_cards").texts("card_id")
             for offset in range(0, len(CARDS) + limit, limit)]
    assert [card for page in pages for card in page] == whole
    assert len(whole) == len(CARDS)


# -- order and fields ---------------------------------------------------------
@pytest.mark.parametrize("order, key", [
    ("balance desc,card_id", lambda c: (-c[2], c[0])),
    ("balance,card_id desc", lambda c: (c[2], [-ord(ch) for ch in c[0]])),
    ("issuer desc,balance asc", lambda c: (c[1] != "Kohls", c[2], c[0])),
    ("card_id desc", lambda c: [-ord(ch) for ch in c[0]]),
])
def test_order_by_several_fields(shop, client, order, key):
    page = read_page(get(client, f"/gift_cards?limit=300&order={order}"), "gift_cards")
    assert page.texts("card_id") == [card_id for card_id, *_ in sorted(CARDS, key=key)]


def test_default_order_is_by_id(shop, client):
    page = read_page(get(client, "/gift_cards?limit=300&order=id"), "gift_cards")
    assert page.texts("card_id") == read_page(get(client, "/gift_cards?limit=300"), "gift_cards").texts("card_id")
    assert page.texts("card_id") == [card_id for card_id, *_ in CARDS]


@media_types
def test_fields_keeps_only_those_properties_and_every_link(shop, client, media_type):
    page = read_page(get(client, "/gift_cards?fields=card_id,balance&limit=5", media_type), "gift_cards")
    full = read_page(get(client, "/gift_cards?limit=5", media_type), "gift_cards")
    assert [set(item.properties) for item in page.items] == [{"card_id", "balance"}] * 5
    assert [item.links for item in page.items] == [item.links for item in full.items]
    assert page.texts("balance") == full.texts("balance")
    if media_type in HYPERMEDIA:
        assert all(item.self_href and "issuer" in item.links for item in page.items)


# -- sub-collections ----------------------------------------------------------
@media_types
def test_a_users_gift_cards_page_like_a_collection(shop, client, media_type):
    ada = user_pk(client, "ada")
    base = f"/users/{ada}/gift_cards"
    page = read_page(get(client, f"{base}?order=balance%20desc&zoom=issuer&limit=2", media_type), "gift_cards")
    assert page.total_header == "5"
    expected = [c[0] for n, c in sorted(enumerate(CARDS, 1), key=lambda nc: (-nc[1][2], nc[0])) if n % 5 == 0]
    pages = walk(client, media_type, path_of(page.paging_links["first"]), "next")
    assert [card for chunk in pages for card in chunk] == expected
    for href in page.paging_links.values():
        assert href.startswith(f"{ORIGIN}{base}?")
        assert ("zoom", "issuer") in query_of(href) and ("order", "balance desc") in query_of(href)
    assert all(item.embedded["issuer"][0].text("name") in ("Gap", "Kohls") for item in page.items)


@pytest.mark.parametrize("sub, key, expected", [
    ("gift_cards", "card_id", [c[0] for c in CARDS if c[1] == "Kohls"]),
    ("products", "product_id", ["kohls-towel"]),
])
def test_an_issuers_sub_collections_hold_its_items_only(shop, client, json_client, sub, key, expected):
    json_client.post("/products", {"product_id": "kohls-towel", "name": "Towel", "price": "9.99",
                                   "eligible_issuer": "Kohls"})
    json_client.post("/products", {"product_id": "gap-tee", "name": "Tee", "price": "5.00",
                                   "eligible_issuer": "Gap"})
    kohls = issuer_pk(client, "Kohls")
    page = read_page(get(client, f"/issuers/{kohls}/{sub}?limit=300"), sub)
    assert page.properties["total_items"] == len(expected)
    assert page.texts(key) == expected
    assert page.links["self"].startswith(f"{ORIGIN}/issuers/{kohls}/{sub}?")


@pytest.mark.parametrize("url", ["/users/999/gift_cards", "/issuers/999/gift_cards",
                                 "/issuers/999/products", "/users/2147483648/gift_cards"])
def test_a_sub_collection_of_an_unknown_parent_is_404(shop, client, url):
    get(client, url, status=404)


def test_a_sub_collection_refuses_bad_parameters_like_a_collection(shop, client):
    ada = user_pk(client, "ada")
    response = get(client, f"/users/{ada}/gift_cards?limit=301", status=400)
    assert [entry.get("field") for entry in errors_of(response)] == ["limit"]
    response = get(client, f"/users/{ada}/gift_cards?zoom=products", status=400)
    assert [entry.get("field") for entry in errors_of(response)] == ["zoom"]


# -- counting switched off ----------------------------------------------------
@pytest.fixture
def uncounted(monkeypatch):
    monkeypatch.setattr(GiftCardEndpoint, "count_total", False)


@media_types
@pytest.mark.parametrize("offset, present", [
    (0, {"first", "next"}), (10, {"first", "prev", "next"}), (20, {"first", "prev"}),
])
def test_without_counting_last_and_totals_are_left_out(shop, client, uncounted, media_type, offset, present):
    response = get(client, f"/gift_cards?limit=10&offset={offset}", media_type)
    page = read_page(response, "gift_cards")
    assert "X-Total-Count" not in response.headers
    assert set(page.paging_links) == present
    assert set(page.header_links) == present
    if media_type != PLAIN:
        assert page.properties == {"returned_items": len(page.items), "limit": 10, "offset": offset}
    assert len(page.items) == (10 if offset < 20 else 5)


def test_without_counting_a_page_that_ends_the_collection_has_no_next(shop, client, uncounted):
    page = read_page(get(client, "/gift_cards?limit=5&offset=20"), "gift_cards")
    assert len(page.items) == 5 and set(page.links) == {"self", "search", "first", "prev"}


@pytest.mark.parametrize("limit", [1, 7])
def test_without_counting_walking_next_visits_every_item_once(shop, client, uncounted, limit):
    pages = walk(client, HAL, f"{WALK}&limit={limit}", "next")
    assert [card for page in pages for card in page] == GAP_BY_BALANCE_DESC


def test_without_counting_a_page_costs_one_query_less(shop, client, monkeypatch):
    with count_queries() as counted:
        get(client, "/gift_cards?limit=5&zoom=issuer")
    monkeypatch.setattr(GiftCardEndpoint, "count_total", False)
    with assert_query_count(counted.count - 1):
        get(client, "/gift_cards?limit=5&zoom=issuer")


# -- bad parameters -----------------------------------------------------------
BAD_PARAMETERS = [
    ("/gift_cards?limit=abc", "limit"),
    ("/gift_cards?limit=-1", "limit"),
    ("/gift_cards?limit=1.5", "limit"),
    ("/gift_cards?limit=301", "limit"),
    ("/gift_cards?limit=", "limit"),
    ("/gift_cards?limit=5&limit=6", "limit"),
    ("/gift_cards?offset=-1", "offset"),
    ("/gift_cards?offset=ten", "offset"),
    ("/gift_cards?offset=9223372036854775808", "offset"),  # past SQL's 64-bit OFFSET
    ("/gift_cards?fields=card_id,nope", "fields"),
    ("/gift_cards?nope=1", "nope"),
    ("/gift_cards?metadata=x", "metadata"),
    ("/gift_cards?balance:foo=1", "balance:foo"),
    ("/gift_cards?zoom=nope", "zoom"),
    ("/gift_cards?zoom=user:nope", "zoom"),
    ("/gift_cards?zoom=user:gift_cards:user:gift_cards", "zoom"),
    ("/gift_cards?order=nope", "order"),
    ("/gift_cards?order=balance%20sideways", "order"),
    ("/gift_cards?order=metadata", "order"),
    ("/gift_cards?balance=abc", "balance"),
    ("/gift_cards?balance=1.00005", "balance"),
    ("/gift_cards?expiry_date=notadate", "expiry_date"),
    ("/gift_cards?date_created=2026-13-45", "date_created"),
    ("/gift_cards?balance=50..abc", "balance"),
    ("/gift_cards?date_created=2026-01-01..", "date_created"),
    ("/gift_cards?expiry_date:lessthan=2027-02-30", "expiry_date:lessthan"),
    ("/gift_cards?single_use:isdefined=maybe", "single_use:isdefined"),
    ("/gift_cards?status=lost", "status"),
    ("/gift_cards?status:lessthan=active", "status:lessthan"),
    ("/gift_cards?status=active..expired", "status"),
    ("/users?gift_cards:isdefined=true", "gift_cards:isdefined"),
    ("/users?gift_cards:card_id=gap*", "gift_cards:card_id"),
    ("/issuers?order=expires_after", "order"),
    ("/products?price:greaterthan=cheap", "price:greaterthan"),
]


@media_types
@pytest.mark.parametrize("url, parameter", BAD_PARAMETERS, ids=[url for url, _ in BAD_PARAMETERS])
def test_a_bad_parameter_is_a_400_naming_it(client, media_type, url, parameter):
    response = get(client, url, media_type, status=400)
    assert response.content_type == media_type
    entries = errors_of(response)
    assert [entry.get("field") for entry in entries] == [parameter], entries


def test_an_unknown_operator_is_called_one(client):
    response = get(client, "/gift_cards?balance:foo=1", PLAIN, status=400)
    message = errors_of(response)[0]["message"]
    assert "foo" in message and "operator" in message, message


# -- the cost of a page -------------------------------------------------------
BULK = 310  # more than MAX_LIMIT, so a page of 300 is full


@pytest.fixture
def bulk(app):
    """310 issuers and users, 620 cards spread over them; 310 more cards of
    issuer-000 held by one user, ``whale``; 310 products, all issuer-000's."""
    insert_rows(app, Issuer, [{"name": f"issuer-{n:03d}", "currency_code": "USD"} for n in range(BULK)])
    insert_rows(app, User, [{"user_id": f"user-{n:03d}", "name": f"User {n}"} for n in range(BULK)]
                + [{"user_id": "whale"}])
    issuers, users = ids_by(app, Issuer, Issuer.name), ids_by(app, User, User.user_id)
    card = {"currency_code": "USD", "status": "active", "single_use": False, "rechargeable": True}
    cards = [dict(card, card_id=f"card-{n:04d}", issuer=issuers[f"issuer-{n % BULK:03d}"],
                  user=None if n % 4 == 3 else users[f"user-{n % BULK:03d}"],
                  balance=(n % 50 + 1) * 100, initial_balance=(n % 50 + 1) * 100)
             for n in range(2 * BULK)]
    cards += [dict(card, card_id=f"whale-{n:03d}", issuer=issuers["issuer-000"], user=users["whale"],
                   balance=1000, initial_balance=1000) for n in range(BULK)]
    insert_rows(app, GiftCard, cards)
    insert_rows(app, Product, [{"product_id": f"product-{n:03d}", "name": f"Product {n}", "price": 500,
                                "issuer": issuers["issuer-000"]} for n in range(BULK)])
    return {"whale": users["whale"], "issuer-000": issuers["issuer-000"]}


#: (url, collection, queries): one for the page, one for the count, one per zoomed
#: relation, plus the users' card_ids on a page of users (one query; zoomed users bring
#: theirs in the zoom's own query) and the parent's look-up on a sub-collection.
PAGE_COSTS = [
    ("/gift_cards?", "gift_cards", 2),
    ("/gift_cards?zoom=user", "gift_cards", 3),
    ("/gift_cards?zoom=issuer", "gift_cards", 3),
    ("/gift_cards?zoom=user,issuer", "gift_cards", 4),
    ("/gift_cards?zoom=user:gift_cards:issuer", "gift_cards", 5),
    ("/gift_cards?balance:greaterthan=0&order=balance%20desc,card_id&zoom=user&fields=card_id",
     "gift_cards", 4),  # (a money filter reads the currencies in use: one more)
    ("/users?", "users", 3),
    ("/users?zoom=gift_cards", "users", 4),
    ("/users?zoom=gift_cards:issuer", "users", 5),
    ("/users?zoom=gift_cards&gift_cards:card_id=card-*", "users", 4),
    ("/issuers?", "issuers", 2),
    ("/issuers?zoom=gift_cards:user", "issuers", 4),
    ("/issuers?zoom=gift_cards,products", "issuers", 4),
    ("/products?zoom=issuer", "products", 3),
    ("/users/{whale}/gift_cards?zoom=issuer", "gift_cards", 4),
    ("/issuers/{issuer-000}/gift_cards?zoom=user", "gift_cards", 4),
    ("/issuers/{issuer-000}/products?zoom=issuer", "products", 4),
]


@pytest.mark.parametrize("url, collection, queries", PAGE_COSTS, ids=[url for url, *_ in PAGE_COSTS])
def test_a_page_costs_the_same_queries_whatever_its_size(bulk, client, url, collection, queries):
    url = url.format(**bulk)
    costs = {}
    for limit in (1, 20, 300):
        with count_queries() as counted:
            response = get(client, f"{url}&limit={limit}")
        assert len(read_page(response, collection).items) == limit
        costs[limit] = counted
    assert costs[1].count == queries, costs[1].report()
    assert costs[20].count == costs[1].count, costs[20].report()
    assert costs[300].count == costs[1].count, costs[300].report()
