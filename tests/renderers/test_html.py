"""HTML: a readable page with anchors for links, forms for actions, everything escaped."""
from __future__ import annotations

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml.html import HtmlElement

from representations import Action, Field, HtmlRenderer, Link, Resource, error_document

RENDERER = HtmlRenderer()
RELS = "http://x.test/rels/"


def page(resource: Resource) -> HtmlElement:
    return lxml.html.document_fromstring(RENDERER.render(resource))


def forms(resource: Resource) -> dict[str, HtmlElement]:
    return {form.get("name"): form for form in page(resource).iter("form")}


def test_media_type() -> None:
    assert RENDERER.content_type == "text/html; charset=utf-8"
    assert RENDERER.aliases == ("application/xhtml+xml",)


def test_every_sample_is_a_parseable_page(any_resource: Resource) -> None:
    output = RENDERER.render(any_resource)
    assert output.startswith(b"<!DOCTYPE html>")
    document = lxml.html.document_fromstring(output)
    assert document.find("head/meta").get("charset") == "utf-8"
    assert document.findtext("head/title")


def test_title_and_heading_use_title_then_kind(user: Resource, empty_collection: Resource) -> None:
    assert page(user).findtext("head/title") == "Ada Lovelace"
    assert page(user).findtext(".//h1") == "Ada Lovelace"
    assert page(empty_collection).findtext(".//h1") == "users"


def test_properties_as_definition_list(user: Resource) -> None:
    dl = page(user).find(".//section[@class='properties']/dl")
    terms = [dt.text for dt in dl.findall("dt")]
    assert terms[:3] == ["id", "user_id", "amazon_id"]
    values = dict(zip(terms, dl.findall("dd")))
    assert values["total_balance"].text == "312.50"
    assert values["member_since"].text == "2025-12-31"
    assert values["amazon_id"].find("em").get("class") == "null"
    assert [li.text for li in values["gift_cards"].iter("li")] == ["KOHLS-0001", "GAP-0002"]
    assert values["preferences"].find("dl/dd").text == "true"


def test_links_are_anchors_with_rel_and_title(gift_card: Resource) -> None:
    anchors = {a.get("rel"): a for a in page(gift_card).iterfind(".//ul[@class='links']//a[@rel]")}
    assert set(anchors) == {"self", RELS + "user", RELS + "issuer", RELS + "transactions"}
    assert anchors["self"].get("href") == "http://x.test/gift_cards/7"
    assert anchors["self"].get("title") == "KOHLS-0001"
    assert anchors[RELS + "user"].text == "Ada Lovelace"


def test_curied_relation_links_to_its_documentation(gift_card: Resource) -> None:
    rel_anchors = page(gift_card).iterfind(".//ul[@class='links']//a[@class='rel']")
    assert {a.text: a.get("href") for a in rel_anchors}["fg:user"] == RELS + "user"


def test_templated_link_is_shown_not_linked(user: Resource) -> None:
    document = page(user)
    assert not document.xpath(".//a[contains(@href, '{')]")
    assert document.findtext(".//code[@class='template']") == (
        "http://x.test/users/1/payment_options{?product_id}"
    )


def test_one_form_per_action(gift_card: Resource) -> None:
    found = forms(gift_card)
    assert list(found) == ["update", "redeem", "delete"]
    assert found["redeem"].get("action") == "http://x.test/gift_cards/7/redeem"
    assert found["update"].findtext(".//legend") == "Update this gift card"


@pytest.mark.parametrize(("name", "method"), [("update", "PATCH"), ("delete", "DELETE")])
def test_other_methods_post_with_hidden_method(
    gift_card: Resource, name: str, method: str
) -> None:
    form = forms(gift_card)[name]
    assert form.get("method") == "post"
    (override,) = form.xpath(".//input[@name='_method']")
    assert (override.get("type"), override.get("value")) == ("hidden", method)


def test_post_form_has_no_method_override(gift_card: Resource) -> None:
    form = forms(gift_card)["redeem"]
    assert form.get("method") == "post"
    assert not form.xpath(".//input[@name='_method']")


def test_get_action_is_a_get_form() -> None:
    action = Action(
        "search", "http://x.test/users", method="GET", fields=(Field("email", "email"),)
    )
    form = forms(Resource(kind="users", actions=[action]))["search"]
    assert form.get("method") == "get"
    assert not form.xpath(".//input[@name='_method']")


def test_enctype_only_for_form_encoded_actions() -> None:
    actions = [
        Action("a", "/a"),
        Action("b", "/b", type="application/json"),
    ]
    found = forms(Resource(kind="thing", actions=actions))
    assert found["a"].get("enctype") == "application/x-www-form-urlencoded"
    assert found["b"].get("enctype") is None


def test_fields_have_labels_types_values_and_limits(gift_card: Resource) -> None:
    form = forms(gift_card)["update"]
    (user_id,) = form.xpath(".//input[@name='user_id']")
    assert (user_id.get("type"), user_id.get("value"), user_id.get("maxlength")) == (
        "text", "ada", "50",
    )
    (label,) = form.xpath(f".//label[@for='{user_id.get('id')}']")
    assert label.text == "User"
    (expiry,) = form.xpath(".//input[@name='expiry_date']")
    assert (expiry.get("type"), expiry.get("value")) == ("date", "2027-12-31")
    (email,) = form.xpath(".//input[@name='recipient_email']")
    assert email.get("value") is None


def test_required_fields_and_descriptions(gift_card: Resource) -> None:
    form = forms(gift_card)["redeem"]
    (amount,) = form.xpath(".//input[@name='amount']")
    assert amount.get("required") is not None
    assert amount.get("step") == "any"  # 12.50 must pass the browser's validation
    (reference,) = form.xpath(".//input[@name='order_reference']")
    assert reference.get("required") is None
    assert "12.50" in form.findtext(".//small")


def test_options_make_a_select(gift_card: Resource) -> None:
    (select,) = forms(gift_card)["update"].xpath(".//select[@name='status']")
    options = select.findall("option")
    assert [option.get("value") for option in options] == ["active", "disabled"]
    assert [option.get("selected") is not None for option in options] == [True, False]


def test_optional_select_offers_an_empty_choice() -> None:
    field = Field("status", options=("active", "disabled"))
    resource = Resource(kind="x", actions=[Action("a", "/a", fields=(field,))])
    (select,) = forms(resource)["a"].iter("select")
    values = [option.get("value") for option in select.findall("option")]
    assert values == ["", "active", "disabled"]


def test_boolean_field_is_a_true_false_choice(gift_card: Resource) -> None:
    # A checkbox could never send false; a select always sends exactly one value.
    form = forms(gift_card)["update"]
    assert not form.xpath(".//input[@name='rechargeable']")
    (select,) = form.xpath(".//select[@name='rechargeable']")
    options = [(o.get("value"), o.get("selected") is not None) for o in select.iter("option")]
    assert options == [("", False), ("true", True), ("false", False)]


def test_boolean_false_value_is_selected() -> None:
    field = Field("single_use", "checkbox", value=False, required=True)
    resource = Resource(kind="x", actions=[Action("a", "/a", "PATCH", fields=(field,))])
    (select,) = forms(resource)["a"].iter("select")
    selected = [o.get("value") for o in select.iter("option") if o.get("selected") is not None]
    assert selected == ["false"]


def test_control_ids_are_unique(gift_card: Resource) -> None:
    ids = [element.get("id") for element in page(gift_card).xpath("//*[@id]")]
    assert len(ids) == len(set(ids))


def test_collection_is_a_table_of_items(collection: Resource) -> None:
    table = page(collection).find(".//section[@class='items']/table")
    assert [th.text for th in table.iterfind("thead/tr/th")] == ["item", "id", "user_id", "name"]
    rows = table.findall("tbody/tr")
    assert len(rows) == 2
    anchors = [row.find("td/a") for row in rows]
    assert [(a.get("href"), a.get("rel"), a.text) for a in anchors] == [
        ("http://x.test/users/1", "item", "Ada Lovelace"),
        ("http://x.test/users/2", "item", "grace"),
    ]
    assert rows[1].findall("td")[3].find("em").text == "null"


def test_empty_collection_has_an_empty_table(empty_collection: Resource) -> None:
    assert page(empty_collection).findall(".//table/tbody/tr") == []


def test_other_embedded_resources_are_nested_articles() -> None:
    card = Resource(
        kind="gift_card", title="A1", properties={"balance": 5},
        links={"self": Link("/gift_cards/1")},
    )
    document = page(Resource(kind="user", embedded={"fg:gift_card": card}))
    article = document.find(".//section[@class='embedded']/article")
    assert article.findtext("h3") == "A1"
    assert article.find(".//a[@rel='self']").get("href") == "/gift_cards/1"


def test_error_document_lists_errors(error: Resource) -> None:
    items = page(error).findall(".//ul[@class='errors']/li")
    assert [li.findtext("code") for li in items] == ["user_id", "email"]
    assert items[1].findtext("span[@class='message']") == "Not a valid email address."
    assert items[0].findtext("small[@class='logref']") == "(validation)"


def test_error_without_field() -> None:
    document = page(error_document([{"logref": "not_found", "message": "No such user."}]))
    (item,) = document.findall(".//ul[@class='errors']/li")
    assert item.find("code") is None
    assert item.text_content().strip() == "No such user. (not_found)"


SCRIPT = "<script>alert('x')</script>"


def test_user_text_is_escaped() -> None:
    resource = Resource(
        kind="user",
        title=SCRIPT,
        properties={SCRIPT: SCRIPT, "list": [SCRIPT], "map": {SCRIPT: SCRIPT}},
        links={"self": Link("/users/1", title=SCRIPT), SCRIPT: Link("/x")},
        actions=[Action(SCRIPT, "/a", title=SCRIPT,
                        fields=(Field(SCRIPT, title=SCRIPT, value=SCRIPT,
                                      description=SCRIPT, options=(SCRIPT,)),))],
    )
    output = RENDERER.render(resource)
    document = lxml.html.document_fromstring(output)
    assert document.xpath("//script") == []
    assert b"<script>" not in output
    assert document.findtext(".//h1") == SCRIPT
    assert document.find(".//dt").text == SCRIPT


def test_characters_xml_forbids_do_not_break_the_page() -> None:
    resource = Resource(
        kind="user",
        title="nul\x00title",
        properties={"bad\x01name": "a\x00b\ud800c", "ok": "tab\tstays"},
        links={"self": Link("/users/1\x02", title="t\x1f")},
    )
    document = page(resource)
    assert document.findtext(".//h1") == "nul\ufffdtitle"
    assert [dd.text for dd in document.iterfind(".//dd")] == ["a\ufffdb\ufffdc", "tab\tstays"]


any_text = st.text(st.characters(exclude_categories=()) | st.sampled_from("<>&\"'\x00"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(any_text, any_text | st.lists(any_text, max_size=2), max_size=4), any_text)
def test_any_content_gives_a_page(properties, words: str) -> None:
    resource = Resource(
        kind="thing",
        title=words or None,
        properties=properties,
        links={"self": Link("/t", title=words), words: Link("/w")},
        actions=[Action("act", "/a", method="PUT", fields=(Field(words or "f", value=words),))],
    )
    document = page(resource)
    assert document.xpath("//script") == []
    assert len(document.findall(".//dl/dt")) == len(properties)
    assert len(document.findall(".//form")) == 1
