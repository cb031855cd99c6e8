"""HAL+JSON: curies, compact relations, exact money, embedded resources."""
from __future__ import annotations

import json

from representations import Curie, HalJsonRenderer, Resource, error_document

RENDERER = HalJsonRenderer()


def rendered(resource: Resource) -> dict:
    return json.loads(RENDERER.render(resource))


def test_media_type() -> None:
    assert RENDERER.content_type == "application/hal+json"


def test_curies_declared_once_on_the_outer_resource(collection: Resource) -> None:
    document = rendered(collection)
    assert document["_links"]["curies"] == [
        {"name": "fg", "href": "http://x.test/rels/{rel}", "templated": True}
    ]
    for item in document["_embedded"]["fg:users"]:
        assert "curies" not in item["_links"]


def test_links_keep_compact_relations_and_titles(user: Resource) -> None:
    links = rendered(user)["_links"]
    assert links["self"] == {"href": "http://x.test/users/1", "title": "Ada Lovelace"}
    assert links["fg:gift_cards"]["href"] == "http://x.test/users/1/gift_cards"


def test_templated_link_is_marked(user: Resource) -> None:
    link = rendered(user)["_links"]["fg:payment_options"]
    assert link["templated"] is True
    assert "templated" not in rendered(user)["_links"]["self"]


def test_money_is_an_exact_number(user: Resource, gift_card: Resource) -> None:
    assert b'"total_balance":312.50' in RENDERER.render(user)
    output = RENDERER.render(gift_card)
    assert b'"balance":250,' in output and b'"initial_balance":300.00' in output


def test_values_dates_lists_and_null(user: Resource) -> None:
    document = rendered(user)
    assert document["member_since"] == "2025-12-31"
    assert document["date_created"] == "2026-01-02T09:04:39+00:00"
    assert document["gift_cards"] == ["KOHLS-0001", "GAP-0002"]
    assert document["amazon_id"] is None
    assert document["preferences"] == {"newsletter": True, "currency": "USD"}


def test_collection_embeds_items_with_self_links(collection: Resource) -> None:
    document = rendered(collection)
    items = document["_embedded"]["fg:users"]
    assert [item["_links"]["self"]["href"] for item in items] == [
        "http://x.test/users/1",
        "http://x.test/users/2",
    ]
    paging = ("total_items", "returned_items", "limit", "offset")
    assert [document[key] for key in paging] == [5, 2, 2, 0]
    assert set(document["_links"]) == {"curies", "self", "first", "next", "last"}


def test_empty_collection_keeps_its_relation(empty_collection: Resource) -> None:
    assert rendered(empty_collection)["_embedded"] == {"fg:users": []}


def test_error_document(error: Resource) -> None:
    document = rendered(error)
    assert document["total"] == 2
    assert document["_embedded"]["fg:errors"][0] == {
        "logref": "validation",
        "message": "Missing data for required field.",
        "field": "user_id",
    }


def test_bare_error_document_has_no_links() -> None:
    document = rendered(error_document([{"logref": "not_found", "message": "No such user."}]))
    assert document == {
        "total": 1,
        "_embedded": {"fg:errors": [{"logref": "not_found", "message": "No such user."}]},
    }


def test_actions_are_not_part_of_hal(gift_card: Resource) -> None:
    assert "actions" not in rendered(gift_card)


def test_a_link_reads_as_a_link_and_writes_as_its_hal_object() -> None:
    from representations import Link

    plain, titled, template = Link("/a"), Link("/b", "B"), Link("/c{?q}", "C", templated=True)
    assert (plain.href, plain.title, plain.templated) == ("/a", None, False)
    assert (titled.href, titled.title, titled.templated) == ("/b", "B", False)
    assert (template.href, template.title, template.templated) == ("/c{?q}", "C", True)
    assert Link("/b", "B") == titled != Link("/b", "other")
    resource = Resource(kind="thing", links={"self": plain, "fg:many": [titled, template]})
    assert rendered(resource)["_links"] == {
        "self": {"href": "/a"},
        "fg:many": [{"href": "/b", "title": "B"}, {"href": "/c{?q}", "title": "C", "templated": True}],
    }
    # Rendering leaves the resource as it was (the outer document adds its curies to a copy).
    resource.curies = (Curie("fg", "/rels/{rel}"),)
    assert "curies" in rendered(resource)["_links"] and set(resource.links) == {"self", "fg:many"}
