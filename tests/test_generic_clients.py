"""What a generic hypermedia client needs beyond links: write answers it can chain
with If-Match, templated links it can use without expanding templates, query
parameters it can discover, and HAL-FORMS templates it can fill in."""
from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import pytest

from flexigift.demo import load_demo_data
from hypermedia import HAL, HAL_FORMS, HAL_XML, HTML, MEDIA_TYPES, PLAIN, SIREN, well_formed


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo_data()
    return app


def local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- ETags on writes ----------------------------------------------------------------

@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_a_created_resource_comes_with_the_etag_a_get_gives(demo, client, media_type):
    created = client.post_json("/users", {"user_id": "etag-user", "name": "E. Tag"},
                               headers={"Accept": media_type}, status=201)
    tag = created.headers["ETag"]
    again = client.get(local(created.headers["Location"]), headers={"Accept": media_type})
    assert again.headers["ETag"] == tag
    client.get(local(created.headers["Location"]), headers={"Accept": media_type, "If-None-Match": tag},
               status=304)


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_writes_chain_with_if_match_without_a_get_between(demo, client, media_type):
    tag = client.get("/users/2", headers={"Accept": media_type}).headers["ETag"]
    for name in ("First", "Second", "Third"):
        response = client.patch_json("/users/2", {"name": name},
                                     headers={"Accept": media_type, "If-Match": tag})
        assert response.headers["ETag"] != tag
        tag = response.headers["ETag"]
    assert client.get("/users/2", headers={"Accept": media_type}).headers["ETag"] == tag
    client.patch_json("/users/2", {"name": "Lost"}, headers={"If-Match": '"stale.tag"'}, status=412)
    assert client.get("/users/2", headers={"Accept": PLAIN}).json["name"] == "Third"


def test_a_redemption_answer_carries_the_etag_of_its_ledger_entry(demo, client):
    card = client.get("/gift_cards/8", headers={"Accept": PLAIN}).json
    client.post_json("/products", {"product_id": "etag-socks", "name": "Socks", "price": "3.00",
                                   "eligible_issuer": card["issuer"]}, status=201)
    redeemed = client.post_json("/gift_cards/8/redeem", {"product_id": "etag-socks"},
                                headers={"Accept": HAL}, status=201)
    entry = client.get(local(redeemed.headers["Location"]), headers={"Accept": HAL})
    assert redeemed.headers["ETag"] == entry.headers["ETag"]


# -- templated links without templates ------------------------------------------------

def test_payment_options_are_a_siren_get_action_that_works(demo, client):
    user = client.get("/users/5", headers={"Accept": SIREN}).json
    (action,) = [a for a in user["actions"] if a["name"] == "payment_options"]
    assert action["method"] == "GET" and [f["name"] for f in action["fields"]] == ["product_id"]
    product = client.get("/products/4", headers={"Accept": PLAIN}).json
    # What a Siren client does with a GET action: the fields go in the query string.
    answer = client.get(local(action["href"]) + "?" + urlencode({"product_id": product["product_id"]}),
                        headers={"Accept": SIREN})
    assert answer.json["class"] == ["payment_options"]
    for link in user["links"]:
        if "templated" in link.get("class", []):
            assert "{" in link["href"]  # still there for clients that expand templates


def test_siren_collection_items_carry_their_actions(demo, client):
    page = client.get("/gift_cards?limit=3", headers={"Accept": SIREN}).json
    items = [entity for entity in page["entities"] if "collection" not in entity["class"]]
    assert len(items) == 3
    for item in items:
        names = {action["name"] for action in item["actions"]}
        assert {"update", "redeem"} <= names, names
        well_formed_item = client.get(local(item["links"][0]["href"]), headers={"Accept": SIREN}).json
        assert {a["name"] for a in well_formed_item["actions"]} >= names


@pytest.mark.parametrize("collection", ["/users", "/gift_cards", "/products", "/issuers", "/transactions"])
def test_a_collection_advertises_its_query_parameters(demo, client, collection):
    links = client.get(collection, headers={"Accept": HAL}).json["_links"]
    search = links["search"]
    assert search["templated"] is True
    template = search["href"]
    head, _, variables = template.partition("{?")
    names = variables.rstrip("}").split(",")
    assert {"zoom", "order", "fields", "limit", "offset"} <= set(names)
    assert len(names) > 5  # the filters come first
    # Expanding the template with a limit gives a working page.
    page = client.get(local(head) + "?limit=1", headers={"Accept": HAL}).json
    assert page["returned_items"] <= 1


def test_the_search_template_is_not_in_the_link_header(demo, client):
    response = client.get("/gift_cards?limit=2", headers={"Accept": PLAIN})
    assert "search" not in response.headers["Link"] and "{" not in response.headers["Link"]


def test_a_siren_search_action_filters(demo, client):
    page = client.get("/gift_cards", headers={"Accept": SIREN}).json
    (search,) = [a for a in page["actions"] if a["name"] == "search"]
    fields = {f["name"] for f in search["fields"]}
    assert {"card_id", "status", "limit", "zoom"} <= fields
    found = client.get(local(search["href"]) + "?card_id=gap*&limit=50", headers={"Accept": PLAIN}).json
    assert found and all(card["card_id"].lower().startswith("gap") for card in found)


# -- HAL-FORMS ---------------------------------------------------------------------------

def test_hal_forms_is_negotiated_and_hal_is_still_the_default(demo, client):
    assert client.get("/users/1", headers={"Accept": HAL_FORMS}).content_type == HAL_FORMS
    assert client.get("/users/1", headers={"Accept": "*/*"}).content_type == HAL


def test_hal_forms_templates_match_the_siren_actions(demo, client):
    for path in ("/gift_cards/8", "/users/5", "/gift_cards", "/issuers/1"):
        forms = client.get(path, headers={"Accept": HAL_FORMS}).json
        siren = client.get(path, headers={"Accept": SIREN}).json
        templates = list(forms.get("_templates", {}).values())
        assert [(t["method"], t["target"]) for t in templates] == [
            (a["method"], a["href"]) for a in siren["actions"]], path
        assert [[p["name"] for p in t["properties"]] for t in templates] == [
            [f["name"] for f in a["fields"]] for a in siren["actions"]], path


def test_a_hal_forms_client_can_fill_in_the_default_template(demo, client):
    card = client.get("/gift_cards/8", headers={"Accept": HAL_FORMS})
    default = card.json["_templates"]["default"]
    assert default["method"] == "PATCH" and default["contentType"] == "application/json"
    values = {prop["name"]: prop.get("value") for prop in default["properties"]}
    assert values["status"] == "active"
    send = getattr(client, default["method"].lower())
    response = send(local(default["target"]), json.dumps({"status": "disabled"}),
                    content_type=default["contentType"],
                    headers={"Accept": HAL_FORMS, "If-Match": card.headers["ETag"]})
    assert response.json["status"] == "disabled"
    well_formed(response)


def test_hal_forms_errors_are_hal_forms_documents(demo, client):
    response = client.post_json("/users", {"user_id": ""}, headers={"Accept": HAL_FORMS}, status=422)
    assert response.content_type == HAL_FORMS
    assert response.json["total"] >= 1
