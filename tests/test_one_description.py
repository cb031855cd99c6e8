"""One description of each resource: its marshmallow schema (and the model's
columns) is what the representation shows, what a collection filters and orders
by, what OPTIONS, /rels and the OpenAPI document list, and what Siren, HAL-FORMS
and HTML offer as fields. Nothing is written down twice, so nothing can drift."""
from __future__ import annotations

import pytest
from marshmallow import fields

from flexigift.demo import load_demo_data
from flexigift.registry import registry_of

PLAIN = "application/json"
RESOURCES = ["users", "gift_cards", "products", "issuers", "transactions", "changes"]


@pytest.fixture
def demo(app, client):
    with app.app_context():
        load_demo_data()
    client.patch_json("/users/1", {"name": "Changed once"})  # so /changes has an entry
    return app


@pytest.mark.parametrize("name", RESOURCES)
def test_what_an_item_shows_is_what_its_schema_describes(demo, client, name):
    endpoint = registry_of(demo).endpoint(name)
    item = client.get(f"/{name}?limit=1", headers={"Accept": PLAIN}).json[0]
    assert set(item) <= set(endpoint.schema.fields), set(item) - set(endpoint.schema.fields)


@pytest.mark.parametrize("name", RESOURCES)
def test_every_scalar_property_filters_and_the_document_says_so(demo, client, name):
    endpoint = registry_of(demo).endpoint(name)
    scalars = {key for key, field in endpoint.schema.fields.items()
               if not isinstance(field, (fields.Dict, fields.Nested))}
    # available_balance is worked out from the card's holds at read time: no column to filter by
    computed = {"gift_cards", "available_balance"}
    assert scalars - computed <= set(endpoint.filterable), scalars - set(endpoint.filterable)
    document = client.get("/openapi.json").json
    parameters = {p["name"] for p in document["paths"][f"/{name}"]["get"]["parameters"]}
    assert set(endpoint.filterable) <= parameters
    search = client.get(f"/{name}", headers={"Accept": "application/hal+json"}).json["_links"]["search"]["href"]
    assert set(endpoint.filterable) <= set(search.partition("{?")[2].rstrip("}").split(","))


@pytest.mark.parametrize("name", ["users", "gift_cards", "products", "issuers"])
def test_options_rels_openapi_siren_and_hal_forms_list_the_same_write_fields(demo, client, name):
    endpoint = registry_of(demo).endpoint(name)
    writable = [key for key, field in endpoint.schema.fields.items() if not field.dump_only]
    options = client.options(f"/{name}", headers={"Accept": PLAIN}).json["fields"]["POST"]
    assert [field["name"] for field in options] == writable
    rel = client.get(f"/rels/{name}", headers={"Accept": PLAIN}).json["fields"]["POST"]
    assert [field["name"] for field in rel] == writable
    document = client.get("/openapi.json").json
    body = document["paths"][f"/{name}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert [key for key, value in component["properties"].items() if not value.get("readOnly")] == writable
    siren = client.get(f"/{name}", headers={"Accept": "application/vnd.siren+json"}).json
    (create,) = [action for action in siren["actions"] if action["name"] == "create"]
    assert [field["name"] for field in create["fields"]] == writable
    forms = client.get(f"/{name}", headers={"Accept": "application/prs.hal-forms+json"}).json["_templates"]
    assert [prop["name"] for prop in forms["default"]["properties"]] == writable
