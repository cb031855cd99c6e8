"""HAL-FORMS: a HAL+JSON document plus ``_templates`` made from the same actions
Siren and HTML show."""
from __future__ import annotations

import json

from representations import (
    Action,
    Field,
    HalFormsRenderer,
    HalJsonRenderer,
    HtmlRenderer,
    Link,
    Resource,
    SirenRenderer,
)

RENDERER = HalFormsRenderer()


def rendered(resource: Resource) -> dict:
    return json.loads(RENDERER.render(resource))


def test_is_the_hal_document_plus_templates(gift_card: Resource) -> None:
    document = rendered(gift_card)
    templates = document.pop("_templates")
    assert document == json.loads(HalJsonRenderer().render(gift_card))
    assert templates


def test_first_action_is_default_and_the_others_keep_their_names(gift_card: Resource) -> None:
    templates = rendered(gift_card)["_templates"]
    assert list(templates) == ["default", "redeem", "delete"]
    assert templates["default"]["method"] == "PATCH"
    assert templates["default"]["title"] == "Update this gift card"
    assert templates["default"]["contentType"] == "application/json"
    assert templates["redeem"]["target"].endswith("/redeem")


def test_properties_carry_prompt_type_required_value_and_options() -> None:
    action = Action("create", "/cards", "POST", "Issue a card", fields=(
        Field("card_id", "text", "Card ID", required=True, max_length=50),
        Field("status", "text", "Status", value="active", options=("active", "disabled")),
        Field("note", "text", "Note", description="optional"),
    ))
    (template,) = rendered(Resource(kind="gift_cards", actions=[action]))["_templates"].values()
    assert template == {
        "title": "Issue a card", "method": "POST", "target": "/cards", "contentType": "application/json",
        "properties": [
            {"name": "card_id", "prompt": "Card ID", "type": "text", "required": True, "maxLength": 50},
            {"name": "status", "prompt": "Status", "type": "text", "required": False, "value": "active",
             "options": {"inline": ["active", "disabled"], "maxItems": 1}},
            {"name": "note", "prompt": "Note", "type": "text", "required": False, "placeholder": "optional"},
        ],
    }


def test_no_actions_no_templates() -> None:
    assert "_templates" not in rendered(Resource(kind="user", links={"self": Link("/u/1")}))


def test_a_templated_query_link_is_a_get_template() -> None:
    resource = Resource(kind="user", links={
        "fg:payment_options": Link("/users/1/payment_options{?product_id}", "Pay", templated=True)})
    assert rendered(resource)["_templates"] == {"default": {
        "title": "Pay", "method": "GET", "target": "/users/1/payment_options",
        "properties": [{"name": "product_id", "prompt": "Product ID", "type": "text", "required": False}],
    }}


def test_same_actions_as_siren_and_html(gift_card: Resource) -> None:
    """One description: every action shows in the three, with the same fields."""
    templates = rendered(gift_card)["_templates"]
    siren = json.loads(SirenRenderer().render(gift_card))["actions"]
    assert [t["target"] for t in templates.values()] == [a["href"] for a in siren]
    assert [[p["name"] for p in t["properties"]] for t in templates.values()] == [
        [f["name"] for f in a["fields"]] for a in siren]
    page = HtmlRenderer().render(gift_card).decode()
    for action in siren:
        for field in action["fields"]:
            assert f'name="{field["name"]}"' in page
