"""Linking cards to users from either side, with both views always agreeing (SPEC 4.2)."""
from __future__ import annotations

import pytest

from api_helpers import (HAL, HUGE_IDS, api, database_snapshot, fields_at_fault,  # noqa: F401
                         messages)

BASE = "http://localhost:3000"


@pytest.fixture
def world(json_client):
    """Two users (ids 1 and 2) and three unlinked Kohl's cards (ids 1 to 3)."""
    for user_id, name in (("user006", "Jack Johnson"), ("user007", "Jill Jones")):
        json_client.post("/users", {"user_id": user_id, "name": name,
                                    "email": f"{user_id}@example.com"})
    for card_id in ("kohls-gc-001", "kohls-gc-002", "kohls-gc-003"):
        json_client.post("/gift_cards", {"card_id": card_id, "issuer": "Kohls", "balance": 50})
    return json_client


def cards_of(client, user_pk: int) -> list[str]:
    return client.get(f"/users/{user_pk}").json["gift_cards"]


def owner_of(client, card_pk: int) -> str | None:
    return client.get(f"/gift_cards/{card_pk}").json["user_id"]


def assert_views_agree(client) -> None:
    """Every user's gift_cards are exactly the cards whose user_id names that user."""
    users = client.get("/users?limit=300").json
    cards = client.get("/gift_cards?limit=300").json
    for user in users:
        linked = [card["card_id"] for card in cards if card["user_id"] == user["user_id"]]
        assert sorted(user["gift_cards"]) == sorted(linked), user["user_id"]
    known = {user["user_id"] for user in users}
    assert all(card["user_id"] in known for card in cards if card["user_id"] is not None)


# -- from the user's side ----------------------------------------------------------

class TestLinkFromUser:
    def test_put_user_with_gift_cards_links_them(self, world, api):
        body = api.put("/users/1", {"user_id": "user006", "name": "Jack Johnson",
                                    "gift_cards": ["kohls-gc-001", "kohls-gc-002"]}).json
        assert body["gift_cards"] == ["kohls-gc-001", "kohls-gc-002"]
        assert owner_of(api, 1) == owner_of(api, 2) == "user006"
        assert owner_of(api, 3) is None
        assert_views_agree(world)

    def test_patch_user_with_gift_cards_links_them(self, world, api):
        body = api.patch("/users/1", {"gift_cards": ["kohls-gc-003"]}).json
        assert body["gift_cards"] == ["kohls-gc-003"]
        assert body["name"] == "Jack Johnson"
        assert owner_of(api, 3) == "user006"
        assert_views_agree(world)

    def test_post_user_with_gift_cards_links_them(self, world, api):
        user = api.post("/users", {"user_id": "user008", "gift_cards": ["kohls-gc-002"]}).json
        assert user["gift_cards"] == ["kohls-gc-002"]
        assert owner_of(api, 2) == "user008"

    def test_card_shows_a_link_to_its_user(self, world, client):
        world.patch("/users/2", {"gift_cards": ["kohls-gc-001"]})
        card = client.get("/gift_cards/1", headers={"Accept": HAL}).json
        assert card["user_id"] == "user007"
        assert card["_links"]["fg:user"]["href"] == f"{BASE}/users/2"

    def test_put_user_with_a_list_unlinks_that_users_cards_not_in_it(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001", "kohls-gc-002"]})
        api.patch("/users/2", {"gift_cards": ["kohls-gc-003"]})
        body = api.put("/users/1", {"user_id": "user006", "gift_cards": ["kohls-gc-002"]}).json
        assert body["gift_cards"] == ["kohls-gc-002"]
        assert owner_of(api, 1) is None
        assert owner_of(api, 2) == "user006"
        assert owner_of(api, 3) == "user007"  # another user's card is left alone
        assert_views_agree(world)

    def test_patch_with_an_empty_list_unlinks_every_card(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001", "kohls-gc-002"]})
        assert api.patch("/users/1", {"gift_cards": []}).json["gift_cards"] == []
        assert owner_of(api, 1) is None and owner_of(api, 2) is None

    def test_patch_without_gift_cards_keeps_the_links(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        assert api.patch("/users/1", {"name": "Jack"}).json["gift_cards"] == ["kohls-gc-001"]
        assert owner_of(api, 1) == "user006"

    def test_linking_the_same_cards_again_changes_nothing(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        assert api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]}).json["gift_cards"] == ["kohls-gc-001"]

    def test_a_card_listed_twice_is_linked_once(self, world, api):
        body = api.patch("/users/1", {"gift_cards": ["kohls-gc-001", "kohls-gc-001"]}).json
        assert body["gift_cards"] == ["kohls-gc-001"]

    def test_unknown_card_id_is_422_naming_it_and_nothing_is_written(self, app, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        before = database_snapshot(app)
        response = api.put("/users/1", {"user_id": "user006", "name": "Renamed",
                                        "gift_cards": ["kohls-gc-002", "no-such-card"]}, status=422)
        assert fields_at_fault(response) == ["gift_cards"]
        assert "no-such-card" in messages(response)
        assert database_snapshot(app) == before

    def test_card_ids_match_exactly(self, world, api):
        response = api.patch("/users/1", {"gift_cards": ["KOHLS-GC-001"]}, status=422)
        assert "KOHLS-GC-001" in messages(response)

    @pytest.mark.parametrize("gift_cards", ["kohls-gc-001", [1], [None], [""], {"card": "x"}])
    def test_gift_cards_that_are_not_a_list_of_card_ids_is_422(self, world, api, gift_cards):
        response = api.patch("/users/1", {"gift_cards": gift_cards}, status=422)
        assert all(field.startswith("gift_cards") for field in fields_at_fault(response))


# -- from the card's side ----------------------------------------------------------

class TestLinkFromCard:
    def test_patch_card_with_user_id_links_it(self, world, api):
        assert api.patch("/gift_cards/2", {"user_id": "user007"}).json["user_id"] == "user007"
        assert cards_of(api, 2) == ["kohls-gc-002"]
        assert_views_agree(world)

    def test_put_card_with_user_id_links_it(self, world, api):
        body = api.put("/gift_cards/1", {"card_id": "kohls-gc-001", "user_id": "user006",
                                         "issuer": "Kohls", "balance": 50}).json
        assert body["user_id"] == "user006"
        assert cards_of(api, 1) == ["kohls-gc-001"]

    def test_post_card_with_user_id_links_it(self, world, api):
        api.post("/gift_cards", {"card_id": "kohls-gc-004", "user_id": "user007",
                                 "issuer": "Kohls", "balance": 10})
        assert cards_of(api, 2) == ["kohls-gc-004"]

    def test_patch_card_with_a_user_link_links_it(self, world, api):
        body = api.patch("/gift_cards/3", {"_links": {"fg:user": {"href": f"{BASE}/users/2"}}}).json
        assert body["user_id"] == "user007"
        assert cards_of(api, 2) == ["kohls-gc-003"]
        assert_views_agree(world)

    def test_user_link_with_a_trailing_slash_links_it(self, world, api):
        body = api.patch("/gift_cards/3", {"_links": {"fg:user": {"href": f"{BASE}/users/2/"}}}).json
        assert body["user_id"] == "user007"

    def test_link_that_was_read_from_a_user_links_to_that_user(self, world, client):
        user_href = client.get("/users/1", headers={"Accept": HAL}).json["_links"]["self"]["href"]
        world.patch("/gift_cards/1", {"_links": {"fg:user": {"href": user_href}}})
        assert cards_of(world, 1) == ["kohls-gc-001"]

    @pytest.mark.parametrize("body", [{"user_id": None}, {"_links": {"fg:user": None}}])
    def test_unlink_from_the_card(self, world, api, body):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        assert api.patch("/gift_cards/1", body).json["user_id"] is None
        assert cards_of(api, 1) == []

    def test_put_card_without_user_id_unlinks_it(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        api.put("/gift_cards/1", {"card_id": "kohls-gc-001", "issuer": "Kohls", "balance": 50})
        assert cards_of(api, 1) == []

    def test_unlinked_card_has_no_user_link(self, world, client):
        world.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        world.patch("/gift_cards/1", {"user_id": None})
        assert "fg:user" not in client.get("/gift_cards/1", headers={"Accept": HAL}).json["_links"]

    @pytest.mark.parametrize("href", [
        f"{BASE}/gift_cards/2", f"{BASE}/issuers/1", f"{BASE}/users", f"{BASE}/users/",
        f"{BASE}/nowhere/1", "not a url", "", f"{BASE}/users/1/gift_cards",
    ])
    def test_user_link_whose_href_is_not_a_user_url_is_422(self, app, world, api, href):
        before = database_snapshot(app)
        response = api.patch("/gift_cards/1", {"_links": {"fg:user": {"href": href}}}, status=422)
        assert fields_at_fault(response) == ["_links.fg:user"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("link", ["x", 5, [], {"rel": "user"}, {"href": 5}])
    def test_user_link_that_is_not_a_link_object_is_422(self, world, api, link):
        response = api.patch("/gift_cards/1", {"_links": {"fg:user": link}}, status=422)
        assert fields_at_fault(response) == ["_links.fg:user"]

    def test_user_link_to_a_user_that_does_not_exist_is_422(self, app, world, api):
        before = database_snapshot(app)
        response = api.patch("/gift_cards/1", {"_links": {"fg:user": {"href": f"{BASE}/users/99"}}},
                             status=422)
        assert fields_at_fault(response) == ["_links.fg:user"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("id", HUGE_IDS)
    def test_user_link_with_a_huge_id_is_422_not_500(self, request, database_url, world, api, id):
        response = api.patch("/gift_cards/1", {"_links": {"fg:user": {"href": f"{BASE}/users/{id}"}}},
                             status=422)
        assert fields_at_fault(response) == ["_links.fg:user"]

    @pytest.mark.parametrize("method", ["post", "put", "patch"])
    def test_unknown_user_id_on_a_card_is_422_naming_user_id(self, app, world, api, method):
        before = database_snapshot(app)
        body = {"card_id": "kohls-gc-001", "user_id": "user999", "issuer": "Kohls", "balance": 50}
        if method == "post":
            response = api.post("/gift_cards", {**body, "card_id": "kohls-gc-009"}, status=422)
        else:
            response = getattr(api, method)("/gift_cards/1", body, status=422)
        assert fields_at_fault(response) == ["user_id"]
        assert "user999" in messages(response)
        assert database_snapshot(app) == before


# -- a card belongs to one user ---------------------------------------------------------

class TestCardLinkedElsewhere:
    @pytest.fixture
    def jacks_card(self, world):
        world.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        return world

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_user_side_409_and_nothing_written(self, app, jacks_card, api, method):
        api.patch("/users/2", {"gift_cards": ["kohls-gc-002"]})
        before = database_snapshot(app)
        user_before, card_before = api.get("/users/2").json, api.get("/gift_cards/1").json
        response = getattr(api, method)("/users/2", {
            "user_id": "user007", "name": "Changed too",
            "gift_cards": ["kohls-gc-003", "kohls-gc-001"]}, status=409)
        assert "kohls-gc-001" in messages(response)
        assert api.get("/users/2").json == user_before
        assert api.get("/gift_cards/1").json == card_before
        assert cards_of(api, 1) == ["kohls-gc-001"]
        assert owner_of(api, 3) is None
        assert database_snapshot(app) == before

    def test_new_user_claiming_a_linked_card_is_409_and_not_created(self, app, jacks_card, api):
        before = database_snapshot(app)
        api.post("/users", {"user_id": "user008", "gift_cards": ["kohls-gc-001"]}, status=409)
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("body", [
        {"user_id": "user007"},
        {"card_id": "kohls-gc-001", "user_id": "user007", "issuer": "Kohls", "balance": 50},
        {"_links": {"fg:user": {"href": f"{BASE}/users/2"}}},
    ], ids=["patch-user_id", "put-user_id", "patch-link"])
    def test_card_side_409_and_nothing_written(self, app, jacks_card, api, body):
        before = database_snapshot(app)
        user_before, card_before = api.get("/users/2").json, api.get("/gift_cards/1").json
        method = api.put if "card_id" in body else api.patch
        response = method("/gift_cards/1", {**body, "reference": "changed too"}, status=409)
        assert "user006" in messages(response)
        assert api.get("/users/2").json == user_before
        assert api.get("/gift_cards/1").json == card_before
        assert database_snapshot(app) == before

    def test_card_can_move_once_unlinked(self, jacks_card, api):
        api.patch("/users/1", {"gift_cards": []})
        assert api.patch("/gift_cards/1", {"user_id": "user007"}).json["user_id"] == "user007"
        assert cards_of(api, 1) == [] and cards_of(api, 2) == ["kohls-gc-001"]

    def test_relinking_to_the_same_user_from_the_card_is_accepted(self, jacks_card, api):
        assert api.patch("/gift_cards/1", {"user_id": "user006"}).json["user_id"] == "user006"


# -- users changing and going away -------------------------------------------------------

class TestUserChanges:
    def test_renaming_a_user_id_shows_on_their_cards(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        api.patch("/users/1", {"user_id": "jack"})
        assert owner_of(api, 1) == "jack"
        assert_views_agree(world)

    def test_deleting_a_user_unlinks_their_cards(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001", "kohls-gc-002"]})
        api.patch("/users/2", {"gift_cards": ["kohls-gc-003"]})
        api.delete("/users/1", status=204)
        assert owner_of(api, 1) is None and owner_of(api, 2) is None
        assert owner_of(api, 3) == "user007"
        assert_views_agree(world)

    def test_cards_of_a_deleted_user_can_be_linked_to_another(self, world, api):
        api.patch("/users/1", {"gift_cards": ["kohls-gc-001"]})
        api.delete("/users/1")
        assert api.patch("/users/2", {"gift_cards": ["kohls-gc-001"]}).json["gift_cards"] == ["kohls-gc-001"]

    def test_views_agree_after_a_sequence_of_changes_from_both_sides(self, world, api):
        api.put("/users/1", {"user_id": "user006", "gift_cards": ["kohls-gc-001", "kohls-gc-002"]})
        api.patch("/gift_cards/2", {"user_id": None})
        api.patch("/gift_cards/2", {"_links": {"fg:user": {"href": f"{BASE}/users/2"}}})
        api.patch("/users/2", {"gift_cards": ["kohls-gc-002", "kohls-gc-003"]})
        api.put("/users/1", {"user_id": "user006"})
        assert cards_of(api, 1) == []
        assert cards_of(api, 2) == ["kohls-gc-002", "kohls-gc-003"]
        assert_views_agree(world)
