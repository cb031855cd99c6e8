"""HAL+XML: Foxy's shape, full relation URIs, and well-formed output for any content."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from representations import HalXmlRenderer, Link, Resource

RENDERER = HalXmlRenderer()
RELS = "http://x.test/rels/"


def parsed(resource: Resource) -> etree._Element:
    """The rendered document, parsed by a strict XML parser."""
    output = RENDERER.render(resource)
    return etree.fromstring(output, etree.XMLParser(recover=False))


def links(element: etree._Element) -> dict[str, dict[str, str]]:
    return {link.get("rel"): dict(link.attrib) for link in element.findall("link")}


def one_property(name, value) -> etree._Element:
    """The element rendered for a single property ``name``."""
    root = parsed(Resource(kind="thing", properties={name: value}))
    (element,) = list(root)
    return element


def test_media_type_and_aliases() -> None:
    assert RENDERER.content_type == "application/hal+xml; charset=utf-8"
    assert RENDERER.aliases == ("application/xml", "text/xml")


def test_every_sample_is_well_formed_with_utf8_declaration(any_resource: Resource) -> None:
    output = RENDERER.render(any_resource)
    assert output.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert etree.fromstring(output).tag == "resource"


def test_root_carries_self_href_and_expanded_rel(gift_card: Resource) -> None:
    root = parsed(gift_card)
    assert root.attrib == {"href": "http://x.test/gift_cards/7", "rel": RELS + "gift_card"}


def test_links_have_expanded_rels_and_titles(gift_card: Resource) -> None:
    found = links(parsed(gift_card))
    assert found["self"] == {
        "rel": "self", "href": "http://x.test/gift_cards/7", "title": "KOHLS-0001",
    }
    assert found[RELS + "user"]["href"] == "http://x.test/users/1"
    assert set(found) == {"self", RELS + "user", RELS + "issuer", RELS + "transactions"}


def test_no_curie_links(user: Resource) -> None:
    assert all(":" not in rel or rel.startswith("http") for rel in links(parsed(user)))


def test_templated_link_is_marked(user: Resource) -> None:
    found = links(parsed(user))
    assert found[RELS + "payment_options"]["templated"] == "true"
    assert "templated" not in found["self"]


def test_links_come_first_then_embedded_then_properties(collection: Resource) -> None:
    tags = [child.tag for child in parsed(collection)]
    assert tags == ["link"] * 4 + ["resource"] * 2 + [
        "total_items", "returned_items", "limit", "offset",
    ]


def test_embedded_items_use_the_embedding_relation(collection: Resource) -> None:
    items = parsed(collection).findall("resource")
    assert [item.attrib for item in items] == [
        {"href": "http://x.test/users/1", "rel": RELS + "users"},
        {"href": "http://x.test/users/2", "rel": RELS + "users"},
    ]
    # The outer resource's curies apply inside embedded resources too.
    assert RELS + "gift_cards" in links(items[0])
    assert items[0].findtext("user_id") == "ada"


def test_empty_collection_has_no_items(empty_collection: Resource) -> None:
    root = parsed(empty_collection)
    assert root.findall("resource") == []
    assert root.findtext("total_items") == "0"


def test_error_document(error: Resource) -> None:
    root = parsed(error)
    assert root.findtext("total") == "2"
    entries = root.findall("resource")
    assert [entry.get("rel") for entry in entries] == [RELS + "errors"] * 2
    assert "href" not in entries[0].attrib
    assert entries[1].findtext("field") == "email"


def test_rel_left_as_is_without_a_matching_curie() -> None:
    root = parsed(Resource(kind="thing", rel="zz:thing", links={"zz:other": Link("/o")}))
    assert root.get("rel") == "zz:thing"
    assert links(root)["zz:other"]["href"] == "/o"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (Decimal("300.00"), "300.00"),
        (Decimal("0.10"), "0.10"),
        (42, "42"),
        (datetime.date(2027, 12, 31), "2027-12-31"),
        (
            datetime.datetime(2026, 1, 2, 9, 4, 39, tzinfo=datetime.timezone.utc),
            "2026-01-02T09:04:39+00:00",
        ),
        ("a < b & c > d", "a < b & c > d"),
        ("", ""),
    ],
)
def test_scalar_values(value, expected: str) -> None:
    element = one_property("value", value)
    assert (element.text or "") == expected
    assert len(element) == 0


def test_list_holds_one_item_per_entry(user: Resource) -> None:
    element = parsed(user).find("gift_cards")
    assert [(child.tag, child.text) for child in element] == [
        ("item", "KOHLS-0001"),
        ("item", "GAP-0002"),
    ]


def test_mapping_holds_one_child_per_key(gift_card: Resource) -> None:
    element = parsed(gift_card).find("metadata")
    assert [(child.tag, child.text) for child in element] == [
        ("campaign", "spring"),
        ("batch", "4"),
    ]


def test_nested_lists_and_mappings() -> None:
    element = one_property("rows", [{"a": [1, None]}, []])
    first, second = element
    assert first.tag == second.tag == "item"
    assert [(child.tag, child.text or "") for child in first.find("a")] == [
        ("item", "1"),
        ("item", ""),
    ]
    assert len(second) == 0


@pytest.mark.parametrize(
    "name",
    [
        "1abc", "a b", "x:y", "", "-dash", ".dot", "a/b", "a>b", "quote\"d", "tab\tname",
        "nul\x00name", "xml", "XMLthing", "xmlns", "resource", "link", "property",
        "\ud800", "\uffff", "a\x1fb",
    ],
)
def test_unusable_property_name_becomes_a_property_element(name: str) -> None:
    element = one_property(name, "v")
    assert element.tag == "property"
    assert element.text == "v"
    assert element.get("name") == name.translate(
        {0: "\ufffd", 0x1F: "\ufffd", 0xD800: "\ufffd", 0xFFFF: "\ufffd"}
    )


@pytest.mark.parametrize("name", ["user_id", "a.b", "_x", "é", "a-b", "Resource", "item"])
def test_usable_property_name_becomes_the_element_name(name: str) -> None:
    assert one_property(name, "v").tag == name


def test_non_string_keys_are_named_by_their_text() -> None:
    element = one_property("m", {1: "one", "k": "v"})
    assert [(child.tag, child.get("name")) for child in element] == [
        ("property", "1"),
        ("k", None),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\x00b", "a\ufffdb"),
        ("bell\x07", "bell\ufffd"),
        ("\x1b[31mred", "\ufffd[31mred"),
        ("keep\ttab\nnewline", "keep\ttab\nnewline"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("non\ufffechar\uffff", "non\ufffdchar\ufffd"),
        ("astral \U0001F381 gift", "astral \U0001F381 gift"),
        ("del\x7f and c1\x85 stay", "del\x7f and c1\x85 stay"),
    ],
)
def test_characters_xml_forbids_become_replacement_characters(value: str, expected: str) -> None:
    assert one_property("text", value).text == expected


def test_control_characters_in_links_and_attributes() -> None:
    resource = Resource(
        kind="thing",
        rel="bad\x01rel",
        links={"self": Link("http://x.test/\x00", title="t\x0bitle")},
    )
    root = parsed(resource)
    assert root.get("rel") == "bad\ufffdrel"
    assert root.find("link").attrib == {
        "rel": "self", "href": "http://x.test/\ufffd", "title": "t\ufffditle",
    }


def test_carriage_return_survives_a_round_trip() -> None:
    assert one_property("text", "a\r\nb").text == "a\r\nb"


# Any code point at all: control characters, lone surrogates and non-characters too.
any_text = st.text(
    st.characters(exclude_categories=()) | st.sampled_from("\x00\x1f\ufffe\uffff:<&")
)
scalars = (
    st.none() | st.booleans() | st.integers() | any_text
    | st.decimals(allow_nan=False, allow_infinity=False) | st.dates()
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(any_text, children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(any_text, values, max_size=5), any_text, any_text)
def test_any_content_gives_well_formed_xml(properties, title: str, href: str) -> None:
    resource = Resource(
        kind="thing",
        properties=properties,
        links={"self": Link(href, title=title)},
        embedded={"fg:things": [Resource(kind="thing", properties=properties)]},
    )
    root = parsed(resource)
    assert len(root.findall("resource")) == 1
    assert len([child for child in root if child.tag not in ("link", "resource")]) == len(
        properties
    )
