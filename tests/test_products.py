"""Products over HTTP: the issuers' eligible products, with exact prices
(SPEC 2 products, 3.4, 3.5)."""
from __future__ import annotations

import pytest

from api_helpers import (HAL, HUGE_IDS, api, database_snapshot, errors_of,  # noqa: F401 (fixture)
                         fields_at_fault, items_of)

DOG_BED = {"product_id": "kohls-dogbed-001", "name": "Deluxe Round Dog Bed", "price": "50.00",
           "eligible_issuer": "Kohls"}


def create_product(json_client, **fields):
    return json_client.post("/products", {**DOG_BED, **fields}).json


class TestCreate:
    def test_tutorial_product_is_shown_as_the_tutorial_shows_it(self, api):
        response = api.post("/products", DOG_BED, status=201)
        product = response.json
        assert {key: product[key] for key in DOG_BED} == DOG_BED
        assert response.headers["Location"] == f"http://localhost:3000/products/{product['id']}"
        assert api.get(response.headers["Location"]).json == product

    @pytest.mark.parametrize("price, shown", [
        ("50.00", "50.00"), (50, "50.00"), ("50", "50.00"), (49.9, "49.90"), ("12.5", "12.50"),
        (0.01, "0.01"), (0.1, "0.10"), (19.99, "19.99"), (1234567890.07, "1234567890.07"),
    ])
    def test_price_as_string_or_number_is_rendered_with_two_decimals(self, api, price, shown):
        response = api.post("/products", {**DOG_BED, "price": price}, status=201)
        assert response.json["price"] == shown
        assert f'"price":"{shown}"' in response.text
        assert f'"price":"{shown}"' in api.get(response.headers["Location"]).text

    @pytest.mark.parametrize("price", [0, "0", "0.00", -1, "-50.00", -0.01])
    def test_price_zero_or_negative_is_422(self, app, api, price):
        response = api.post("/products", {**DOG_BED, "price": price}, status=422)
        assert fields_at_fault(response) == ["price"]
        assert all(not rows for rows in database_snapshot(app).values())

    @pytest.mark.parametrize("price", [50.001, "50.001", "fifty", "", True, None, ["50"], "5e1"])
    def test_price_that_is_not_an_amount_is_422(self, api, price):
        response = api.post("/products", {**DOG_BED, "price": price}, status=422)
        assert fields_at_fault(response) == ["price"]

    def test_eligible_issuer_registers_the_issuer(self, api):
        create_product(api, eligible_issuer="Petco")
        issuers = items_of(api.get("/issuers"), "fg:issuers")
        assert [issuer["name"] for issuer in issuers] == ["Petco"]

    def test_known_issuer_is_not_registered_twice(self, json_client):
        create_product(json_client)
        json_client.post("/gift_cards", {"card_id": "c1", "issuer": "Kohls", "balance": 1})
        create_product(json_client, product_id="kohls-dogbowl-001")
        assert [issuer["name"] for issuer in json_client.get("/issuers").json] == ["Kohls"]

    def test_product_links_to_its_issuer(self, client, json_client):
        product = create_product(json_client)
        hal = client.get(f"/products/{product['id']}", headers={"Accept": HAL}).json
        assert json_client.get(hal["_links"]["fg:issuer"]["href"]).json["name"] == "Kohls"

    def test_duplicate_product_id_is_409_naming_product_id(self, app, api):
        create_product(api)
        before = database_snapshot(app)
        response = api.post("/products", {**DOG_BED, "name": "Another bed"}, status=409)
        assert fields_at_fault(response) == ["product_id"]
        assert database_snapshot(app) == before

    def test_empty_body_lists_every_required_field(self, api):
        response = api.post("/products", {}, status=422)
        assert sorted(fields_at_fault(response)) == ["eligible_issuer", "name", "price", "product_id"]

    @pytest.mark.parametrize("field, value", [
        ("product_id", "p" * 51), ("name", "n" * 201), ("eligible_issuer", "i" * 51),
        ("product_id", ""), ("name", ""), ("name", None), ("product_id", 7),
    ])
    def test_invalid_field_is_422_naming_it(self, app, api, field, value):
        response = api.post("/products", {**DOG_BED, field: value}, status=422)
        assert fields_at_fault(response) == [field]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_longest_allowed_values_are_accepted(self, json_client):
        product = create_product(json_client, product_id="p" * 50, name="n" * 200, eligible_issuer="i" * 50)
        assert (product["product_id"], product["name"], product["eligible_issuer"]) == (
            "p" * 50, "n" * 200, "i" * 50)

    def test_strings_are_stored_exactly_as_given(self, json_client):
        product = create_product(json_client, product_id=" sku 1 ", name="  Lit pour chien — rond  ")
        stored = json_client.get(f"/products/{product['id']}").json
        assert (stored["product_id"], stored["name"]) == (" sku 1 ", "  Lit pour chien — rond  ")

    def test_every_field_at_fault_reported_at_once(self, api):
        response = api.post("/products", {"product_id": "p", "name": "", "price": 0,
                                          "eligible_issuer": "Kohls", "colour": "red"}, status=422)
        assert sorted(fields_at_fault(response)) == ["colour", "name", "price"]


class TestRead:
    @pytest.mark.parametrize("suffix", ["", "/"])
    def test_list_with_or_without_trailing_slash(self, api, suffix):
        create_product(api)
        create_product(api, product_id="kohls-dogbowl-001", price=12)
        products = items_of(api.get(f"/products{suffix}"), "fg:products")
        assert [(product["product_id"], product["price"]) for product in products] == [
            ("kohls-dogbed-001", "50.00"), ("kohls-dogbowl-001", "12.00")]

    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    def test_unknown_product_is_404(self, api, id):
        errors_of(api.get(f"/products/{id}", status=404))


class TestChange:
    def test_put_replaces_every_field(self, api):
        product = create_product(api)
        new = {"product_id": "gap-tee-001", "name": "Tee", "price": "9.99", "eligible_issuer": "Gap"}
        body = api.put(f"/products/{product['id']}", new).json
        assert {key: body[key] for key in new} == new
        assert api.get(f"/products/{product['id']}/").json["eligible_issuer"] == "Gap"

    def test_put_missing_required_fields_is_422_naming_each(self, app, api):
        product = create_product(api)
        before = database_snapshot(app)
        response = api.put(f"/products/{product['id']}", {"product_id": "p", "name": "n"}, status=422)
        assert sorted(fields_at_fault(response)) == ["eligible_issuer", "price"]
        assert database_snapshot(app) == before

    def test_patch_changes_only_the_fields_sent(self, api):
        product = create_product(api)
        body = api.patch(f"/products/{product['id']}", {"price": 45}).json
        assert body["price"] == "45.00"
        assert {key: body[key] for key in ("product_id", "name", "eligible_issuer")} == {
            key: DOG_BED[key] for key in ("product_id", "name", "eligible_issuer")}

    def test_patch_to_a_new_issuer_registers_it(self, json_client):
        product = create_product(json_client)
        json_client.patch(f"/products/{product['id']}/", {"eligible_issuer": "Petco"})
        assert sorted(issuer["name"] for issuer in json_client.get("/issuers").json) == ["Kohls", "Petco"]

    @pytest.mark.parametrize("price", [0, -5, "1.005"])
    def test_patch_with_invalid_price_is_422_and_keeps_the_price(self, app, api, price):
        product = create_product(api)
        before = database_snapshot(app)
        response = api.patch(f"/products/{product['id']}", {"price": price}, status=422)
        assert fields_at_fault(response) == ["price"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_taking_another_products_product_id_is_409(self, app, api, method):
        create_product(api)
        other = create_product(api, product_id="kohls-dogbowl-001")
        before = database_snapshot(app)
        response = getattr(api, method)(f"/products/{other['id']}", DOG_BED, status=409)
        assert fields_at_fault(response) == ["product_id"]
        assert database_snapshot(app) == before

    def test_put_keeping_its_own_product_id_is_accepted(self, json_client):
        product = create_product(json_client)
        json_client.put(f"/products/{product['id']}", {**DOG_BED, "name": "Bed"}, status=200)

    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    def test_writing_an_unknown_product_is_404(self, json_client, id):
        errors_of(json_client.put(f"/products/{id}", DOG_BED, status=404))
        errors_of(json_client.patch(f"/products/{id}", {"name": "x"}, status=404))


class TestDelete:
    @pytest.mark.parametrize("suffix", ["", "/"])
    def test_delete_is_204_and_the_product_is_gone(self, api, suffix):
        product = create_product(api)
        api.delete(f"/products/{product['id']}{suffix}", status=204)
        api.get(f"/products/{product['id']}", status=404)
        assert items_of(api.get("/products"), "fg:products") == []

    def test_deleting_keeps_the_issuer(self, json_client):
        product = create_product(json_client)
        json_client.delete(f"/products/{product['id']}")
        assert [issuer["name"] for issuer in json_client.get("/issuers").json] == ["Kohls"]

    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    def test_deleting_an_unknown_product_is_404(self, json_client, id):
        errors_of(json_client.delete(f"/products/{id}", status=404))
