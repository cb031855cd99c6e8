"""Zoom of a to-many relation is capped (issue 11): each item embeds at most
FLEXIGIFT_ZOOM_CAP related items (the first by id). An item whose relation has more
says so as a collection says it of its total, with ``<relation>_total_more_than``
(the cap), in every media type, and links the relation's own collection beside the
embedded items (``fg:gift_cards`` → ``/users/5/gift_cards``), where the rest are.
The capped zoom is still one query per relation, reading at most cap + 1 rows a parent.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from auth_support import auth_app, close, make_token, TokenClient
from collection_support import (
    HAL, HYPERMEDIA, MEDIA_TYPES, PLAIN, media_type_id, path_of, read_page,
)
from query_count import assert_query_count, count_queries

from flexigift.config import Config, ConfigError

media_types = pytest.mark.parametrize("media_type", MEDIA_TYPES, ids=media_type_id)
CAP = 4


def set_cap(app, cap: int) -> None:
    app.config["FLEXIGIFT"] = replace(app.config["FLEXIGIFT"], zoom_cap=cap)


def user_with_cards(api, user_id: str, count: int, issuer: str = "Gap") -> int:
    """A user holding ``count`` new cards of ``issuer`` (card_ids ``<user_id>-00``…); the user's id."""
    pk = api.post("/users", {"user_id": user_id}).json["id"]
    for number in range(count):
        api.post("/gift_cards", {"card_id": f"{user_id}-{number:02d}", "issuer": issuer, "balance": 1,
                                 "user_id": user_id})
    return pk


@pytest.fixture
def world(app, json_client):
    """Cap 4: ada holds cap + 5 cards, grace cap - 1, alan none, bob exactly cap."""
    set_cap(app, CAP)
    for name in ("Gap", "Kohls"):
        json_client.post("/issuers", {"name": name})
    counts = {"ada": CAP + 5, "grace": CAP - 1, "alan": 0, "bob": CAP}
    for user_id, count in counts.items():
        user_with_cards(json_client, user_id, count)
    return counts


def zoomed_page(client, url, collection, media_type):
    return read_page(client.get(url, headers={"Accept": media_type}), collection)


def follow_all(client, href: str, media_type: str) -> list[str]:
    """The card_ids of every page of the collection at ``href``, following next links."""
    card_ids, url = [], path_of(href)
    while url:
        page = read_page(client.get(url, headers={"Accept": media_type}), "gift_cards")
        card_ids += page.texts("card_id")
        url = path_of(page.paging_links["next"]) if "next" in page.paging_links else None
    return card_ids


@media_types
def test_a_user_with_more_cards_than_the_cap_embeds_exactly_the_cap(world, client, media_type):
    page = zoomed_page(client, "/users?zoom=gift_cards", "users", media_type)
    by_user = {item.text("user_id"): item for item in page.items}
    ada = by_user["ada"]
    assert [card.text("card_id") for card in ada.embedded["gift_cards"]] == [f"ada-{n:02d}" for n in range(CAP)]
    assert ada.text("gift_cards_total_more_than") == str(CAP)
    for user_id in ("grace", "bob", "alan"):  # all of them, and nothing said
        item = by_user[user_id]
        assert [card.text("card_id") for card in item.embedded.get("gift_cards", [])] == \
            [f"{user_id}-{n:02d}" for n in range(world[user_id])]
        assert "gift_cards_total_more_than" not in item.properties


@media_types
def test_the_link_beside_a_capped_zoom_leads_to_all_of_them(world, client, media_type):
    page = zoomed_page(client, "/users?zoom=gift_cards&user_id=ada", "users", media_type)
    [ada] = page.items
    if media_type in HYPERMEDIA:
        href = ada.links["gift_cards"]
        assert href == f"{ada.self_href}/gift_cards"
    else:  # plain JSON has no links: the same collection, at the URL the hypermedia types link
        href = f"http://localhost:3000/users/{ada.text('id')}/gift_cards"
    rest = read_page(client.get(path_of(href) + "?limit=3", headers={"Accept": media_type}), "gift_cards")
    assert rest.total_header == str(CAP + 5)
    assert follow_all(client, href + "?limit=3", media_type) == [f"ada-{n:02d}" for n in range(CAP + 5)]
    filtered = read_page(client.get("/gift_cards?user_id=ada", headers={"Accept": media_type}), "gift_cards")
    assert filtered.texts("card_id") == [f"ada-{n:02d}" for n in range(CAP + 5)]


@media_types
def test_fields_keep_what_the_zoom_says(world, client, media_type):
    page = zoomed_page(client, "/users?zoom=gift_cards&fields=user_id&user_id=ada", "users", media_type)
    [ada] = page.items
    assert set(ada.properties) == {"user_id", "gift_cards_total_more_than"}
    assert len(ada.embedded["gift_cards"]) == CAP


def test_hal_shows_the_marker_beside_the_embedded_array(world, client):
    users = client.get("/users?zoom=gift_cards&user_id=ada", headers={"Accept": HAL}).json["_embedded"]["fg:users"]
    [ada] = users
    assert len(ada["_embedded"]["fg:gift_cards"]) == CAP
    assert ada["gift_cards_total_more_than"] == CAP
    assert ada["_links"]["fg:gift_cards"]["href"].endswith(f"/users/{ada['id']}/gift_cards")


def test_plain_json_shows_the_marker_beside_the_embedded_array(world, client):
    [ada] = client.get("/users?zoom=gift_cards&user_id=ada", headers={"Accept": PLAIN}).json
    assert len(ada["fg:gift_cards"]) == CAP and ada["gift_cards_total_more_than"] == CAP


@media_types
def test_every_to_many_relation_is_capped(app, json_client, client, media_type):
    set_cap(app, CAP)
    json_client.post("/issuers", {"name": "Gap"})
    json_client.post("/issuers", {"name": "Kohls"})
    for number in range(CAP + 2):
        json_client.post("/gift_cards", {"card_id": f"gap-{number}", "issuer": "Gap", "balance": 50})
        json_client.post("/products", {"product_id": f"tee-{number}", "name": "Tee", "price": "1.00",
                                       "eligible_issuer": "Gap"})
    json_client.post("/gift_cards", {"card_id": "kohls-0", "issuer": "Kohls", "balance": 1})
    card = json_client.get("/gift_cards?card_id=gap-0").json[0]["id"]
    for _ in range(CAP + 1):
        json_client.post(f"/gift_cards/{card}/reload", {"amount": 1})

    issuers = zoomed_page(client, "/issuers?zoom=gift_cards,products", "issuers", media_type)
    gap, kohls = issuers.items
    assert len(gap.embedded["gift_cards"]) == len(gap.embedded["products"]) == CAP
    assert gap.text("gift_cards_total_more_than") == gap.text("products_total_more_than") == str(CAP)
    assert len(kohls.embedded["gift_cards"]) == 1 and "gift_cards_total_more_than" not in kohls.properties

    cards = zoomed_page(client, "/gift_cards?zoom=transactions&card_id:in=gap-0,kohls-0", "gift_cards", media_type)
    first, other = cards.items
    assert [entry.text("kind") for entry in first.embedded["transactions"]] == ["issue"] + ["reload"] * (CAP - 1)
    assert first.text("transactions_total_more_than") == str(CAP)
    assert len(other.embedded["transactions"]) == 1 and "transactions_total_more_than" not in other.properties


@media_types
def test_a_nested_zoom_is_capped_at_every_level(world, client, media_type):
    page = zoomed_page(client, "/gift_cards?zoom=user:gift_cards&card_id=ada-08", "gift_cards", media_type)
    [card] = page.items
    [ada] = card.embedded["user"]
    assert len(ada.embedded["gift_cards"]) == CAP and ada.text("gift_cards_total_more_than") == str(CAP)
    page = zoomed_page(client, "/issuers?zoom=gift_cards:user&name=Gap", "issuers", media_type)
    [gap] = page.items
    assert [card.embedded["user"][0].text("user_id") for card in gap.embedded["gift_cards"]] == ["ada"] * CAP
    assert gap.text("gift_cards_total_more_than") == str(CAP)


# -- cost ----------------------------------------------------------------------------

def test_the_query_count_stays_flat_however_many_parents_and_cards(app, json_client, client):
    set_cap(app, CAP)
    json_client.post("/issuers", {"name": "Gap"})
    user_with_cards(json_client, "one", CAP + 5)
    with count_queries() as one_user:
        client.get("/users?zoom=gift_cards", headers={"Accept": HAL})
    for user_id, count in [("two", CAP + 9), ("three", 2), ("four", CAP * 3)]:
        user_with_cards(json_client, user_id, count)
    for media_type in MEDIA_TYPES:
        with assert_query_count(one_user.count):
            page = zoomed_page(client, "/users?zoom=gift_cards", "users", media_type)
        assert [len(item.embedded.get("gift_cards", [])) for item in page.items] == [CAP, CAP, 2, CAP]
    with assert_query_count(one_user.count + 1):  # a nested zoom: one more query, whatever it holds
        client.get("/users?zoom=gift_cards:issuer", headers={"Accept": HAL})


def test_the_capped_zoom_reads_only_the_first_rows_of_each_parent(world, client):
    with count_queries() as counted:
        client.get("/users?zoom=gift_cards", headers={"Accept": HAL})
    [zoom_query] = [sql for sql in counted.statements if "ROW_NUMBER" in sql.upper()]
    assert "PARTITION BY" in zoom_query.upper()


def test_the_default_cap_is_a_hundred(app, json_client, client):
    json_client.post("/issuers", {"name": "Gap"})
    issuer = json_client.get("/issuers?name=Gap").json[0]["id"]
    card_ids = [f"many-{number:03d}" for number in range(105)]
    json_client.post(f"/issuers/{issuer}/bulk_create", {"card_ids": card_ids, "balance": 1})
    user = json_client.post("/users", {"user_id": "collector", "gift_cards": card_ids}).json
    [item] = client.get("/users?zoom=gift_cards", headers={"Accept": PLAIN}).json
    assert len(item["fg:gift_cards"]) == 100 and item["gift_cards_total_more_than"] == 100
    assert [card["card_id"] for card in item["fg:gift_cards"]] == card_ids[:100]
    assert client.get(f"/users/{user['id']}/gift_cards", headers={"Accept": PLAIN}).headers["X-Total-Count"] == "105"


def test_an_issuer_token_sees_a_capped_zoom_of_what_it_may_see(database_url):
    app = auth_app(database_url, zoom_cap=3)
    try:
        admin = TokenClient(app, make_token(app, "admin"))
        for name in ("Kohls", "Gap"):
            admin.post("/issuers", {"name": name}, status=201)
        for number in range(5):
            for name in ("Gap", "Kohls"):
                admin.post("/gift_cards", {"card_id": f"{name.lower()}-{number}", "issuer": name, "balance": 1},
                           status=201)
        kohls = TokenClient(app, make_token(app, "issuer:Kohls"), accept=HAL)
        [issuer] = kohls.get("/issuers?zoom=gift_cards", status=200).json["_embedded"]["fg:issuers"]
        assert [card["card_id"] for card in issuer["_embedded"]["fg:gift_cards"]] == ["kohls-0", "kohls-1",
                                                                                      "kohls-2"]
        assert issuer["gift_cards_total_more_than"] == 3
    finally:
        close(app)


# -- the setting -------------------------------------------------------------------

def test_the_cap_is_configured():
    assert Config.from_env({}).zoom_cap == 100
    assert Config.from_env({"FLEXIGIFT_ZOOM_CAP": "25"}).zoom_cap == 25
    for bad in ("0", "-1", "many", "100000"):
        with pytest.raises(ConfigError, match="FLEXIGIFT_ZOOM_CAP"):
            Config.from_env({"FLEXIGIFT_ZOOM_CAP": bad})
