"""Zoom (SPEC 3.3): ``?zoom=rel`` embeds a related resource or collection in
every item of a page, several with commas, nested with ``:`` up to three
levels; the link stays beside the embedded copy, each copy keeps its own self
link, and a page costs one query more per zoomed relation, whatever its size.
"""
from __future__ import annotations

import pytest

from collection_support import (
    HAL, HYPERMEDIA, MEDIA_TYPES, ORIGIN, PLAIN, errors_of, media_type_id, path_of, read_item,
    read_page,
)
from query_count import assert_query_count

media_types = pytest.mark.parametrize("media_type", MEDIA_TYPES, ids=media_type_id)
hypermedia = pytest.mark.parametrize("media_type", HYPERMEDIA, ids=media_type_id)

#: card_id → (issuer, holder)
CARDS = {"gap-1": ("Gap", "ada"), "gap-2": ("Gap", "ada"), "kohls-1": ("Kohls", "grace"),
         "kohls-2": ("Kohls", None)}


@pytest.fixture
def world(json_client):
    """Three users (alan holds no card), three issuers (Hanes has nothing), four cards, two products."""
    for user_id, name in [("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("alan", "Alan Turing")]:
        json_client.post("/users", {"user_id": user_id, "name": name})
    for name in ("Gap", "Kohls", "Hanes"):
        json_client.post("/issuers", {"name": name})
    for card_id, (issuer, user) in CARDS.items():
        json_client.post("/gift_cards", {"card_id": card_id, "issuer": issuer, "balance": 10, "user_id": user})
    for product_id, issuer in [("tee", "Gap"), ("towel", "Kohls")]:
        json_client.post("/products", {"product_id": product_id, "name": product_id, "price": "9.99",
                                       "eligible_issuer": issuer})
    return json_client


def zoomed(client, url, collection, media_type=HAL, queries=None):
    """Read a zoomed page; with ``queries``, assert what it cost."""
    if queries is None:
        response = client.get(url, headers={"Accept": media_type})
    else:
        with assert_query_count(queries):
            response = client.get(url, headers={"Accept": media_type})
    return read_page(response, collection)


def standalone(client, item, media_type) -> dict:
    """The properties of the resource an embedded copy stands for, fetched on its own."""
    response = client.get(path_of(item.self_href), headers={"Accept": media_type})
    return read_item(response).properties


# -- single relations ---------------------------------------------------------
@media_types
def test_zoom_user_embeds_each_cards_holder(world, client, media_type):
    page = zoomed(client, "/gift_cards?zoom=user", "gift_cards", media_type, queries=3)
    assert page.texts("card_id") == list(CARDS)
    for item in page.items:
        holder = CARDS[item.text("card_id")][1]
        if holder is None:
            assert "user" not in item.embedded
            continue
        [user] = item.embedded["user"]
        assert user.text("user_id") == holder
        if media_type in HYPERMEDIA:
            assert user.self_href == item.links["user"], "the link stays beside the embedded copy"
            assert user.self_href.startswith(f"{ORIGIN}/users/")


@media_types
def test_zoom_issuer_embeds_each_cards_issuer(world, client, media_type):
    page = zoomed(client, "/gift_cards?zoom=issuer", "gift_cards", media_type, queries=3)
    for item in page.items:
        [issuer] = item.embedded["issuer"]
        assert issuer.text("name") == CARDS[item.text("card_id")][0]
        if media_type in HYPERMEDIA:
            assert issuer.self_href == item.links["issuer"]


@media_types
def test_zoom_issuer_on_products(world, client, media_type):
    page = zoomed(client, "/products?zoom=issuer", "products", media_type, queries=3)
    assert [(item.text("product_id"), item.embedded["issuer"][0].text("name")) for item in page.items] == \
        [("tee", "Gap"), ("towel", "Kohls")]
    if media_type in HYPERMEDIA:
        assert all(item.embedded["issuer"][0].self_href == item.links["issuer"] for item in page.items)


@hypermedia
def test_an_embedded_copy_is_the_resource_itself(world, client, media_type):
    page = zoomed(client, "/gift_cards?zoom=user,issuer", "gift_cards", media_type, queries=4)
    for item in page.items:
        for rel in item.embedded:
            [copy] = item.embedded[rel]
            assert copy.properties == standalone(client, copy, media_type), rel


def test_hal_embeds_a_single_relation_as_an_object_and_a_many_as_an_array(world, client):
    cards = client.get("/gift_cards?zoom=user,issuer", headers={"Accept": HAL}).json["_embedded"]["fg:gift_cards"]
    assert isinstance(cards[0]["_embedded"]["fg:user"], dict)
    assert isinstance(cards[0]["_embedded"]["fg:issuer"], dict)
    users = client.get("/users?zoom=gift_cards", headers={"Accept": HAL}).json["_embedded"]["fg:users"]
    assert [len(user["_embedded"]["fg:gift_cards"]) for user in users] == [2, 1, 0]


# -- many relations -----------------------------------------------------------
@media_types
def test_zoom_gift_cards_embeds_each_users_cards(world, client, media_type):
    page = zoomed(client, "/users?zoom=gift_cards", "users", media_type, queries=4)
    expected = {"ada": ["gap-1", "gap-2"], "grace": ["kohls-1"], "alan": []}
    for item in page.items:
        cards = item.embedded.get("gift_cards", [])
        assert [card.text("card_id") for card in cards] == expected[item.text("user_id")]
        if media_type in HYPERMEDIA:
            assert item.links["gift_cards"].endswith(f"/users/{item.text('id')}/gift_cards")
            assert all(card.self_href.startswith(f"{ORIGIN}/gift_cards/") for card in cards)
            assert all(card.links["user"] == item.self_href for card in cards)


@media_types
@pytest.mark.parametrize("relation, key, expected", [
    ("gift_cards", "card_id", {"Gap": ["gap-1", "gap-2"], "Kohls": ["kohls-1", "kohls-2"], "Hanes": []}),
    ("products", "product_id", {"Gap": ["tee"], "Kohls": ["towel"], "Hanes": []}),
])
def test_zoom_an_issuers_cards_and_products(world, client, media_type, relation, key, expected):
    page = zoomed(client, f"/issuers?zoom={relation}", "issuers", media_type, queries=3)
    assert page.texts("name") == ["Gap", "Kohls", "Hanes"]
    for item in page.items:
        assert [child.text(key) for child in item.embedded.get(relation, [])] == expected[item.text("name")]
        if media_type in HYPERMEDIA:
            assert all(child.self_href for child in item.embedded.get(relation, []))


@hypermedia
@pytest.mark.parametrize("relation", ["gift_cards", "products"])
def test_the_link_stays_beside_an_issuers_embedded_collection(world, client, media_type, relation):
    page = zoomed(client, f"/issuers?zoom={relation}", "issuers", media_type)
    for item in page.items:
        assert item.links.get(relation) == f"{item.self_href}/{relation}", item.links


# -- several and nested -------------------------------------------------------
@media_types
def test_zoom_several_relations_at_once(world, client, media_type):
    page = zoomed(client, "/gift_cards?zoom=issuer,user", "gift_cards", media_type, queries=4)
    item = page.items[0]
    assert set(item.embedded) == {"issuer", "user"}
    assert item.embedded["user"][0].text("user_id") == "ada"
    assert item.embedded["issuer"][0].text("name") == "Gap"


@media_types
def test_nested_zoom_embeds_at_every_level(world, client, media_type):
    page = zoomed(client, "/issuers?zoom=gift_cards:user", "issuers", media_type, queries=4)
    holders = {item.text("name"): [(card.text("card_id"), [u.text("user_id") for u in card.embedded.get("user", [])])
                                   for card in item.embedded.get("gift_cards", [])]
               for item in page.items}
    assert holders == {"Gap": [("gap-1", ["ada"]), ("gap-2", ["ada"])],
                       "Kohls": [("kohls-1", ["grace"]), ("kohls-2", [])], "Hanes": []}
    if media_type in HYPERMEDIA:
        for item in page.items:
            for card in item.embedded.get("gift_cards", []):
                for user in card.embedded.get("user", []):
                    assert user.self_href == card.links["user"]


@media_types
def test_zoom_three_levels_deep(world, client, media_type):
    page = zoomed(client, "/gift_cards?zoom=user:gift_cards:issuer&card_id=gap-1", "gift_cards",
                  media_type, queries=5)
    [card] = page.items
    [user] = card.embedded["user"]
    assert [(c.text("card_id"), c.embedded["issuer"][0].text("name")) for c in user.embedded["gift_cards"]] == \
        [("gap-1", "Gap"), ("gap-2", "Gap")]


def test_nested_and_plain_zoom_of_one_relation_merge(world, client):
    page = zoomed(client, "/users?zoom=gift_cards,gift_cards:issuer&user_id=ada", "users", queries=5)
    assert [card.embedded["issuer"][0].text("name") for card in page.items[0].embedded["gift_cards"]] == ["Gap", "Gap"]


# -- zoom with the other parameters -------------------------------------------
@media_types
def test_zoom_with_fields_order_and_paging(world, client, media_type):
    url = "/gift_cards?zoom=user&fields=card_id&order=card_id%20desc&limit=2&offset=1"
    page = zoomed(client, url, "gift_cards", media_type, queries=3)
    assert page.texts("card_id") == ["kohls-1", "gap-2"]
    assert [set(item.properties) for item in page.items] == [{"card_id"}, {"card_id"}]
    assert [item.embedded["user"][0].text("user_id") for item in page.items] == ["grace", "ada"]
    for href in page.paging_links.values():
        assert "zoom=user" in href and "fields=card_id" in href


@media_types
def test_zoom_in_a_sub_collection(world, client, media_type):
    ada = client.get("/users?user_id=ada", headers={"Accept": PLAIN}).json[0]["id"]
    page = zoomed(client, f"/users/{ada}/gift_cards?zoom=issuer,user", "gift_cards", media_type, queries=5)
    assert [(item.text("card_id"), item.embedded["issuer"][0].text("name"), item.embedded["user"][0].text("user_id"))
            for item in page.items] == [("gap-1", "Gap", "ada"), ("gap-2", "Gap", "ada")]


# -- refused zooms --------------------------------------------------------------
BAD_ZOOMS = [
    "/gift_cards?zoom=nope",
    "/gift_cards?zoom=users",
    "/gift_cards?zoom=user:nope",
    "/users?zoom=gift_cards:user:gift_cards:user",
    "/issuers?zoom=gift_cards:user:gift_cards:issuer",
    "/gift_cards?zoom=",
    "/gift_cards?zoom=user,,issuer",
    "/gift_cards?zoom=user:",
    "/gift_cards?zoom=user&zoom=issuer",
    "/products?zoom=gift_cards",
]


@media_types
@pytest.mark.parametrize("url", BAD_ZOOMS)
def test_an_unknown_or_too_deep_zoom_is_a_400_naming_zoom(client, media_type, url):
    response = client.get(url, headers={"Accept": media_type}, status=400)
    assert response.content_type == media_type
    assert [entry.get("field") for entry in errors_of(response)] == ["zoom"]
