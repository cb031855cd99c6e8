"""Plain JSON: properties only, as the tutorials show; a collection is an array."""
from __future__ import annotations

import json

from representations import Link, PlainJsonRenderer, Resource

RENDERER = PlainJsonRenderer()


def rendered(resource: Resource):
    return json.loads(RENDERER.render(resource))


def test_media_type() -> None:
    assert RENDERER.content_type == "application/json"


def test_item_is_its_properties_without_links(user: Resource) -> None:
    document = rendered(user)
    assert "_links" not in document and "links" not in document
    assert document["id"] == 1
    assert document["user_id"] == "ada"
    assert document["gift_cards"] == ["KOHLS-0001", "GAP-0002"]
    assert document["amazon_id"] is None


def test_money_is_an_exact_number(gift_card: Resource) -> None:
    output = RENDERER.render(gift_card)
    assert b'"balance":250,' in output
    assert b'"initial_balance":300.00' in output


def test_collection_is_an_array_of_items(collection: Resource) -> None:
    assert rendered(collection) == [
        {"id": 1, "user_id": "ada", "name": "Ada Lovelace"},
        {"id": 2, "user_id": "grace", "name": None},
    ]


def test_empty_collection_is_an_empty_array(empty_collection: Resource) -> None:
    assert rendered(empty_collection) == []


def test_error_document_lists_errors(error: Resource) -> None:
    document = rendered(error)
    assert document["total"] == 2
    assert [entry["field"] for entry in document["errors"]] == ["user_id", "email"]


def test_embedded_resource_under_its_short_relation_name() -> None:
    card = Resource(kind="gift_card", properties={"card_id": "A1"})
    user = Resource(
        kind="user",
        properties={"user_id": "ada", "gift_cards": ["A1"]},
        links={"self": Link("http://x.test/users/1")},
        embedded={"fg:card": card, "fg:gift_cards": [card]},
    )
    document = rendered(user)
    assert document["card"] == {"card_id": "A1"}
    # The short name is taken by a property, so the full relation is used.
    assert document["gift_cards"] == ["A1"]
    assert document["fg:gift_cards"] == [{"card_id": "A1"}]
