"""Siren: every entity valid against tests/schemas/siren.schema.json, and our mapping rules."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from representations import Action, Field, Link, Resource, SirenRenderer

RENDERER = SirenRenderer()
RELS = "http://x.test/rels/"
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "schemas" / "siren.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def assert_valid_siren(entity: dict) -> None:
    """Schema-valid, plus the MUSTs a schema cannot say: unique action and field names."""
    VALIDATOR.validate(entity)
    names = [action["name"] for action in entity.get("actions", [])]
    assert len(names) == len(set(names)), f"duplicate action names {names}"
    for action in entity.get("actions", []):
        fields = [field["name"] for field in action.get("fields", [])]
        assert len(fields) == len(set(fields)), f"duplicate field names in {action['name']}"
    for sub in entity.get("entities", []):
        if "href" not in sub:
            assert_valid_siren({key: value for key, value in sub.items() if key != "rel"})


def rendered(resource: Resource) -> dict:
    entity = json.loads(RENDERER.render(resource))
    assert_valid_siren(entity)
    return entity


def links(entity: dict) -> dict[str, dict]:
    return {link["rel"][0]: link for link in entity["links"]}


def test_media_type() -> None:
    assert RENDERER.content_type == "application/vnd.siren+json"


def test_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_sample_is_valid_siren(any_resource: Resource) -> None:
    rendered(any_resource)


def test_class_is_the_kind(user: Resource, collection: Resource) -> None:
    assert rendered(user)["class"] == ["user"]
    assert rendered(collection)["class"] == ["users", "collection"]


def test_title_and_properties(user: Resource) -> None:
    entity = rendered(user)
    assert entity["title"] == "Ada Lovelace"
    assert entity["properties"]["gift_cards"] == ["KOHLS-0001", "GAP-0002"]
    assert entity["properties"]["amazon_id"] is None
    assert entity["properties"]["member_since"] == "2025-12-31"
    assert b'"total_balance":312.50' in RENDERER.render(user)


def test_links_are_rel_arrays_with_expanded_relations(gift_card: Resource) -> None:
    found = links(rendered(gift_card))
    assert found["self"] == {
        "rel": ["self"], "href": "http://x.test/gift_cards/7", "title": "KOHLS-0001",
    }
    assert set(found) == {"self", RELS + "user", RELS + "issuer", RELS + "transactions"}


def test_templated_link_is_classed(user: Resource) -> None:
    link = links(rendered(user))[RELS + "payment_options"]
    assert link["class"] == ["templated"]
    assert link["href"].endswith("{?product_id}")


def test_collection_items_are_sub_entities_with_rel(collection: Resource) -> None:
    entities = rendered(collection)["entities"]
    assert [entity["rel"] for entity in entities] == [[RELS + "users"]] * 2
    assert entities[0]["class"] == ["user"]
    assert links(entities[0])["self"]["href"] == "http://x.test/users/1"
    assert RELS + "gift_cards" in links(entities[0])
    assert entities[1]["properties"] == {"id": 2, "user_id": "grace", "name": None}


def test_empty_collection_has_empty_entities(empty_collection: Resource) -> None:
    entity = rendered(empty_collection)
    assert entity["entities"] == []
    assert entity["properties"]["total_items"] == 0


def test_entities_absent_when_nothing_is_embedded(user: Resource) -> None:
    assert "entities" not in rendered(user)


def test_error_document(error: Resource) -> None:
    entity = rendered(error)
    assert entity["class"] == ["errors"]
    assert entity["properties"] == {"total": 2}
    assert [sub["rel"] for sub in entity["entities"]] == [[RELS + "errors"]] * 2
    assert entity["entities"][0]["properties"]["field"] == "user_id"


def test_actions_carry_method_href_type_and_fields(gift_card: Resource) -> None:
    actions = {action["name"]: action for action in rendered(gift_card)["actions"]}
    assert list(actions) == ["update", "redeem", "delete"]
    update = actions["update"]
    assert (update["method"], update["href"], update["type"]) == (
        "PATCH", "http://x.test/gift_cards/7", "application/x-www-form-urlencoded",
    )
    assert update["title"] == "Update this gift card"
    assert actions["delete"]["fields"] == []


def test_update_action_shows_every_current_value(gift_card: Resource) -> None:
    (update,) = [a for a in rendered(gift_card)["actions"] if a["name"] == "update"]
    assert update["fields"][0] == {
        "name": "user_id", "title": "User", "type": "text", "value": "ada",
    }
    values = {field["name"]: field.get("value", "absent") for field in update["fields"]}
    assert values == {
        "user_id": "ada",
        "status": "active",
        "expiry_date": "2027-12-31",
        "rechargeable": True,
        "recipient_email": "absent",  # currently empty: no value, never null
    }


def test_no_field_carries_a_null_value(gift_card: Resource) -> None:
    for action in rendered(gift_card)["actions"]:
        assert all(field.get("value", "absent") is not None for field in action["fields"])


def test_a_templated_query_link_is_also_a_get_action() -> None:
    resource = Resource(kind="user", links={
        "self": Link("/users/1"),
        "fg:payment_options": Link("/users/1/payment_options{?product_id}", "Pay", templated=True),
        "fg:parts": Link("/users/1/parts/{part}", "A part", templated=True),
        "search": Link("/users?fixed=1{&name,limit}", "Search", templated=True),
    })
    actions = {action["name"]: action for action in rendered(resource)["actions"]}
    assert set(actions) == {"payment_options", "search"}  # a path variable is no form field
    assert actions["payment_options"] == {
        "name": "payment_options", "title": "Pay", "method": "GET", "href": "/users/1/payment_options",
        "type": "application/x-www-form-urlencoded",
        "fields": [{"name": "product_id", "title": "Product ID", "type": "text"}],
    }
    assert actions["search"]["href"] == "/users"
    assert actions["search"]["fields"] == [
        {"name": "fixed", "type": "hidden", "value": "1"},
        {"name": "name", "title": "Name", "type": "text"},
        {"name": "limit", "title": "Limit", "type": "text"},
    ]


def test_a_templated_link_does_not_shadow_an_action_of_its_name() -> None:
    resource = Resource(kind="user", links={"search": Link("/u{?q}", templated=True)},
                        actions=[Action("search", "/s", "POST")])
    assert [action["method"] for action in rendered(resource)["actions"]] == ["POST"]


def test_create_action_omits_absent_values(gift_card: Resource) -> None:
    (redeem,) = [a for a in rendered(gift_card)["actions"] if a["name"] == "redeem"]
    assert redeem["method"] == "POST"
    assert all("value" not in field for field in redeem["fields"])
    assert [field["type"] for field in redeem["fields"]] == ["number", "text", "text"]


def test_post_action_keeps_a_given_value() -> None:
    action = Action("generate", "/g", fields=(Field("length", "number", value=6), Field("prefix")))
    entity = rendered(Resource(kind="issuer", actions=[action]))
    assert entity["actions"][0]["fields"] == [
        {"name": "length", "type": "number", "value": 6},
        {"name": "prefix", "type": "text"},
    ]


# The schema itself: it must refuse what the Siren specification forbids.

def valid_entity() -> dict:
    return {
        "class": ["user"],
        "properties": {"user_id": "ada"},
        "entities": [
            {"rel": [RELS + "card"], "class": ["gift_card"], "properties": {},
             "links": [{"rel": ["self"], "href": "/c/1"}]},
            {"rel": [RELS + "issuer"], "href": "/issuers/1"},
        ],
        "links": [{"rel": ["self"], "href": "/users/1"}],
        "actions": [{"name": "update", "href": "/users/1", "method": "PATCH",
                     "fields": [{"name": "name", "type": "text", "value": None}]}],
    }


def broken(change) -> dict:
    entity = copy.deepcopy(valid_entity())
    change(entity)
    return entity


def test_schema_accepts_the_reference_entity() -> None:
    VALIDATOR.validate(valid_entity())


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda e: e["entities"][0].pop("rel"), id="sub-entity-without-rel"),
        pytest.param(lambda e: e["entities"][1].pop("rel"), id="embedded-link-without-rel"),
        pytest.param(lambda e: e["entities"][0].update(rel=RELS + "card"), id="rel-not-array"),
        pytest.param(lambda e: e["entities"][0].update(rel=[]), id="rel-empty"),
        pytest.param(lambda e: e["links"][0].pop("href"), id="link-without-href"),
        pytest.param(lambda e: e["links"][0].pop("rel"), id="link-without-rel"),
        pytest.param(lambda e: e["links"][0].update(rel="self"), id="link-rel-not-array"),
        pytest.param(lambda e: e.update({"class": "user"}), id="class-not-array"),
        pytest.param(lambda e: e.update({"class": [1]}), id="class-not-strings"),
        pytest.param(lambda e: e.update(properties=[]), id="properties-not-object"),
        pytest.param(lambda e: e["actions"][0].pop("name"), id="action-without-name"),
        pytest.param(lambda e: e["actions"][0].pop("href"), id="action-without-href"),
        pytest.param(lambda e: e["actions"][0]["fields"][0].pop("name"), id="field-without-name"),
        pytest.param(lambda e: e["actions"][0]["fields"][0].update(type="select"),
                     id="field-type-not-html5-input"),
        pytest.param(lambda e: e.update(rel=["self"]), id="root-with-rel"),
        pytest.param(lambda e: e.update(_links={}), id="unknown-member"),
        pytest.param(lambda e: e["entities"][1].update(properties={}),
                     id="embedded-link-with-properties"),
    ],
)
def test_schema_rejects(change) -> None:
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(broken(change))


def test_rendered_sub_entity_without_rel_is_rejected(collection: Resource) -> None:
    entity = json.loads(RENDERER.render(collection))
    del entity["entities"][0]["rel"]
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(entity)


def test_duplicate_action_names_are_caught() -> None:
    resource = Resource(
        kind="thing",
        links={"self": Link("/t")},
        actions=[Action("same", "/a"), Action("same", "/b")],
    )
    with pytest.raises(AssertionError, match="duplicate action names"):
        rendered(resource)
