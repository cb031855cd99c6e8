"""Users over HTTP: create, read, list, replace, change and delete shoppers, and
the validation that guards them (SPEC 2 users, 3.4, 3.5)."""
from __future__ import annotations

import pytest

from api_helpers import (HAL, HUGE_IDS, PLAIN, api, database_snapshot,  # noqa: F401 (fixture)
                         errors_of, fields_at_fault, items_of, messages)

JACK = {"user_id": "user006", "amazon_id": "amz3456", "name": "Jack Johnson",
        "email": "jack.johnson@example.com"}
OPTIONAL = ("amazon_id", "name", "email")


def create_user(json_client, **fields):
    return json_client.post("/users", {**JACK, **fields}).json


def create_card(json_client, card_id, **fields):
    return json_client.post("/gift_cards", {"card_id": card_id, "issuer": "Kohls",
                                            "balance": 25, **fields}).json


# -- creating ----------------------------------------------------------------

class TestCreate:
    def test_post_creates_user_with_201_location_and_body(self, api):
        response = api.post("/users", JACK, status=201)
        body = response.json
        assert {key: body[key] for key in JACK} == JACK
        assert body["gift_cards"] == []
        assert isinstance(body["id"], int)
        assert response.headers["Location"] == f"http://localhost:3000/users/{body['id']}"
        assert response.content_type == api.accept

    def test_hal_body_links_to_itself_at_location(self, client):
        response = client.post_json("/users", JACK, headers={"Accept": HAL}, status=201)
        assert response.json["_links"]["self"]["href"] == response.headers["Location"]

    def test_created_user_is_readable_at_its_location(self, json_client):
        created = json_client.post("/users", JACK)
        fetched = json_client.get(created.headers["Location"])
        assert fetched.json == created.json

    def test_date_created_and_modified_carry_an_offset(self, json_client):
        user = create_user(json_client)
        assert user["date_created"].endswith("+00:00")
        assert user["date_modified"].endswith("+00:00")

    def test_only_user_id_is_required(self, json_client):
        user = json_client.post("/users", {"user_id": "solo"}).json
        assert [user[key] for key in OPTIONAL] == [None, None, None]
        assert user["gift_cards"] == []

    def test_id_and_dates_in_the_body_are_ignored(self, json_client):
        json_client.post("/users", {"user_id": "first"})
        user = json_client.post("/users", {"user_id": "second", "id": 999,
                                           "date_created": "2000-01-01T00:00:00+00:00"}).json
        assert user["id"] == 2
        assert not user["date_created"].startswith("2000")
        json_client.get("/users/999", status=404)

    def test_post_to_collection_with_trailing_slash(self, json_client):
        response = json_client.post("/users/", JACK, status=201)
        assert response.json["user_id"] == JACK["user_id"]


# -- reading -----------------------------------------------------------------

class TestRead:
    @pytest.mark.parametrize("suffix", ["", "/"])
    def test_get_user_with_or_without_trailing_slash(self, api, suffix):
        user = create_user(api)
        body = api.get(f"/users/{user['id']}{suffix}").json
        assert body["user_id"] == JACK["user_id"] and body["id"] == user["id"]

    def test_list_as_plain_json_is_the_array_of_users(self, json_client):
        first = create_user(json_client)
        second = create_user(json_client, user_id="user007", name="Jill")
        response = json_client.get("/users/")
        assert response.content_type == PLAIN
        assert response.json == [first, second]

    def test_list_as_hal_embeds_every_user_with_its_self_link(self, client, json_client):
        first = create_user(json_client)
        second = create_user(json_client, user_id="user007")
        response = client.get("/users", headers={"Accept": HAL})
        users = items_of(response, "fg:users")
        assert [user["user_id"] for user in users] == ["user006", "user007"]
        assert [user["_links"]["self"]["href"] for user in users] == [
            f"http://localhost:3000/users/{first['id']}", f"http://localhost:3000/users/{second['id']}"]

    def test_empty_list(self, api):
        assert items_of(api.get("/users"), "fg:users") == []

    @pytest.mark.parametrize("path", ["/users", "/users/"])
    def test_collection_with_or_without_trailing_slash(self, api, path):
        create_user(api)
        assert [user["user_id"] for user in items_of(api.get(path), "fg:users")] == ["user006"]

    def test_unknown_id_is_404(self, api):
        response = api.get("/users/42", status=404)
        assert errors_of(response)[0]["logref"] == "not_found"

    @pytest.mark.parametrize("id", HUGE_IDS)
    def test_huge_id_is_404_not_500(self, api, id):
        create_user(api)
        errors_of(api.get(f"/users/{id}", status=404))

    @pytest.mark.parametrize("id", ["0", "abc", "-1", "1.5"])
    def test_id_that_is_not_a_row_number_is_404(self, api, id):
        create_user(api)
        errors_of(api.get(f"/users/{id}", status=404))


# -- replacing (PUT) and changing (PATCH) --------------------------------------

class TestPut:
    def test_put_replaces_every_field(self, api):
        user = create_user(api)
        new = {"user_id": "user006b", "amazon_id": "amz1", "name": "J. Johnson",
               "email": "jj@example.org", "gift_cards": []}
        body = api.put(f"/users/{user['id']}", new).json
        assert {key: body[key] for key in new} == new
        assert api.get(f"/users/{user['id']}").json["name"] == "J. Johnson"

    def test_put_clears_omitted_optional_fields(self, api):
        user = create_user(api)
        create_card(api, "kohls-gc-001", user_id=JACK["user_id"])
        body = api.put(f"/users/{user['id']}", {"user_id": JACK["user_id"]}).json
        assert [body[key] for key in OPTIONAL] == [None, None, None]
        assert body["gift_cards"] == []
        stored = api.get(f"/users/{user['id']}").json
        assert [stored[key] for key in OPTIONAL] == [None, None, None]
        assert stored["gift_cards"] == []
        assert api.get("/gift_cards/1").json["user_id"] is None

    def test_put_of_what_get_returned_is_accepted_unchanged(self, api):
        """The tutorial's read-modify-PUT: read-only fields and links sent back are ignored."""
        user = create_user(api)
        current = api.get(f"/users/{user['id']}").json
        body = api.put(f"/users/{user['id']}", current).json
        assert {key: body[key] for key in JACK} == JACK

    def test_put_without_user_id_is_422_naming_user_id(self, app, api):
        user = create_user(api)
        before = database_snapshot(app)
        response = api.put(f"/users/{user['id']}", {"name": "Nameless"}, status=422)
        assert fields_at_fault(response) == ["user_id"]
        assert database_snapshot(app) == before

    def test_put_may_keep_the_users_own_user_id(self, json_client):
        user = create_user(json_client)
        json_client.put(f"/users/{user['id']}", {**JACK, "name": "Same id"}, status=200)

    def test_put_with_trailing_slash(self, json_client):
        user = create_user(json_client)
        body = json_client.put(f"/users/{user['id']}/", {**JACK, "name": "Slash"}).json
        assert body["name"] == "Slash"


class TestPatch:
    def test_patch_changes_only_the_fields_sent(self, api):
        user = create_user(api)
        create_card(api, "kohls-gc-001", user_id=JACK["user_id"])
        body = api.patch(f"/users/{user['id']}", {"name": "Jack J."}).json
        assert body["name"] == "Jack J."
        assert {key: body[key] for key in ("user_id", "amazon_id", "email")} == {
            key: JACK[key] for key in ("user_id", "amazon_id", "email")}
        assert body["gift_cards"] == ["kohls-gc-001"]

    def test_patch_with_null_clears_an_optional_field(self, json_client):
        user = create_user(json_client)
        body = json_client.patch(f"/users/{user['id']}", {"email": None}).json
        assert body["email"] is None and body["name"] == JACK["name"]

    def test_patch_with_empty_body_changes_nothing(self, json_client):
        user = create_user(json_client)
        body = json_client.patch(f"/users/{user['id']}", {}).json
        assert {key: body[key] for key in JACK} == JACK

    def test_patch_cannot_set_user_id_to_null(self, json_client):
        user = create_user(json_client)
        response = json_client.patch(f"/users/{user['id']}", {"user_id": None}, status=422)
        assert fields_at_fault(response) == ["user_id"]

    def test_patch_with_trailing_slash(self, json_client):
        user = create_user(json_client)
        assert json_client.patch(f"/users/{user['id']}/", {"name": "S"}).json["name"] == "S"

    def test_date_modified_moves_forward_on_change(self, json_client):
        user = create_user(json_client)
        body = json_client.patch(f"/users/{user['id']}", {"name": "Later"}).json
        assert body["date_modified"] >= user["date_modified"]
        assert body["date_created"] == user["date_created"]


class TestUniqueUserId:
    def test_duplicate_user_id_on_post_is_409_naming_user_id(self, app, api):
        create_user(api)
        before = database_snapshot(app)
        response = api.post("/users", {"user_id": JACK["user_id"], "name": "Impostor"}, status=409)
        assert fields_at_fault(response) == ["user_id"]
        assert JACK["user_id"] in messages(response)
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_taking_another_users_user_id_is_409(self, app, api, method):
        create_user(api)
        other = create_user(api, user_id="user007", name="Jill")
        before = database_snapshot(app)
        response = getattr(api, method)(f"/users/{other['id']}",
                                        {"user_id": JACK["user_id"], "name": "Jill"}, status=409)
        assert fields_at_fault(response) == ["user_id"]
        assert database_snapshot(app) == before

    def test_user_ids_differing_only_in_case_or_spaces_are_distinct(self, json_client):
        create_user(json_client)
        json_client.post("/users", {"user_id": "USER006"}, status=201)
        json_client.post("/users", {"user_id": " user006"}, status=201)


# -- deleting ----------------------------------------------------------------

class TestDelete:
    @pytest.mark.parametrize("suffix", ["", "/"])
    def test_delete_is_204_and_the_user_is_gone(self, api, suffix):
        user = create_user(api)
        response = api.delete(f"/users/{user['id']}{suffix}", status=204)
        assert response.body == b""
        api.get(f"/users/{user['id']}", status=404)
        assert items_of(api.get("/users"), "fg:users") == []

    def test_deleting_twice_is_404(self, json_client):
        user = create_user(json_client)
        json_client.delete(f"/users/{user['id']}")
        json_client.delete(f"/users/{user['id']}", status=404)

    def test_user_id_of_a_deleted_user_can_be_registered_again(self, json_client):
        user = create_user(json_client)
        json_client.delete(f"/users/{user['id']}")
        json_client.post("/users", JACK, status=201)

    def test_204_has_no_content_type(self, json_client):
        user = create_user(json_client)
        response = json_client.delete(f"/users/{user['id']}", status=204)
        assert "Content-Type" not in response.headers

    def test_delete_on_the_collection_is_405_with_allow(self, json_client):
        response = json_client.delete("/users", status=405)
        assert "POST" in response.headers["Allow"] and "DELETE" not in response.headers["Allow"]


class TestUnknownIds:
    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_writing_an_unknown_user_is_404(self, app, json_client, method, id):
        create_user(json_client)
        before = database_snapshot(app)
        response = getattr(json_client, method)(f"/users/{id}", {"user_id": "ghost"}, status=404)
        errors_of(response)
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    def test_deleting_an_unknown_user_is_404(self, json_client, id):
        create_user(json_client)
        errors_of(json_client.delete(f"/users/{id}", status=404))


# -- what strings may be -----------------------------------------------------

class TestStrings:
    @pytest.mark.parametrize("text", [
        "  padded  ", "\ttabbed\n", "Zoë Ångström", "山田太郎", "مرحبا", "👩‍👩‍👧 family",
        "e\u0301 combining", "quote \" and \\ backslash", "<b>not html</b>",
    ])
    def test_strings_are_stored_exactly_as_given(self, api, text):
        user = api.post("/users", {"user_id": text, "name": text, "amazon_id": text}).json
        stored = api.get(f"/users/{user['id']}").json
        assert (stored["user_id"], stored["name"], stored["amazon_id"]) == (text, text, text)

    def test_longest_allowed_values_are_accepted(self, json_client):
        body = {"user_id": "u" * 50, "amazon_id": "a" * 50, "name": "n" * 100}
        user = json_client.post("/users", body).json
        assert {key: user[key] for key in body} == body

    def test_length_counts_characters_not_bytes(self, json_client):
        body = {"user_id": "😀" * 50, "name": "é" * 100}
        user = json_client.post("/users", body).json
        assert json_client.get(f"/users/{user['id']}").json["user_id"] == "😀" * 50

    @pytest.mark.parametrize("field, length", [("user_id", 51), ("amazon_id", 51), ("name", 101)])
    def test_too_long_is_422_naming_the_field(self, app, api, field, length):
        body = {"user_id": "ok", field: "x" * length}
        response = api.post("/users", body, status=422)
        assert fields_at_fault(response) == [field]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_empty_user_id_is_422(self, json_client):
        assert fields_at_fault(json_client.post("/users", {"user_id": ""}, status=422)) == ["user_id"]

    @pytest.mark.parametrize("value", [5, 1.5, True, ["user006"], {"id": "user006"}, None])
    def test_user_id_that_is_not_a_string_is_422(self, json_client, value):
        response = json_client.post("/users", {"user_id": value}, status=422)
        assert fields_at_fault(response) == ["user_id"]


class TestEmail:
    @pytest.mark.parametrize("email", ["jack.johnson@example.com", "a+tag@sub.example.co.uk"])
    def test_valid_email_is_accepted(self, json_client, email):
        assert json_client.post("/users", {"user_id": "u", "email": email}).json["email"] == email

    @pytest.mark.parametrize("email", ["jack", "jack@", "@example.com", "jack johnson@example.com",
                                       "jack@@example.com", ""])
    def test_invalid_email_is_422_naming_email(self, app, api, email):
        response = api.post("/users", {"user_id": "u", "email": email}, status=422)
        assert fields_at_fault(response) == ["email"]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_invalid_email_on_patch_leaves_the_user_unchanged(self, app, json_client):
        user = create_user(json_client)
        before = database_snapshot(app)
        json_client.patch(f"/users/{user['id']}", {"email": "nope", "name": "X"}, status=422)
        assert database_snapshot(app) == before


class TestValidationReport:
    def test_unknown_field_is_422_naming_it(self, api):
        response = api.post("/users", {"user_id": "u", "favourite_colour": "blue"}, status=422)
        assert fields_at_fault(response) == ["favourite_colour"]

    def test_every_field_at_fault_is_reported_at_once(self, api):
        response = api.post("/users", {"user_id": "u" * 51, "email": "not-an-email"}, status=422)
        entries = errors_of(response)
        assert len(entries) == 2
        assert sorted(entry["field"] for entry in entries) == ["email", "user_id"]
        assert all(entry["logref"] == "validation_failed" for entry in entries)

    def test_missing_and_unknown_and_invalid_fields_all_reported(self, api):
        response = api.post("/users", {"name": "n" * 101, "shoe_size": 44, "email": "x"}, status=422)
        assert sorted(fields_at_fault(response)) == ["email", "name", "shoe_size", "user_id"]

    def test_error_body_is_in_the_negotiated_format(self, api):
        response = api.post("/users", {"user_id": ""}, status=422)
        assert response.content_type == api.accept
        assert response.headers["Vary"] == "Accept"
