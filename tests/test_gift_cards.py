"""Gift cards over HTTP: issuing a card, its defaults, exact money, the rules on
what may change afterwards, and deleting (SPEC 2 gift_cards, 3.4, 3.5)."""
from __future__ import annotations

import datetime

import pytest

from api_helpers import (HAL, HUGE_IDS, api, database_snapshot, errors_of,  # noqa: F401 (fixture)
                         fields_at_fault, items_of, messages)

KOHLS_CARD = {"card_id": "kohls-gc-001", "issuer": "Kohls", "balance": 250,
              "expiry_date": "2026-12-31"}


def create_card(json_client, **fields):
    return json_client.post("/gift_cards", {**KOHLS_CARD, **fields}).json


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


# -- issuing ------------------------------------------------------------------

class TestCreate:
    def test_create_with_every_field(self, api):
        api.post("/users", {"user_id": "user006"})
        body = {
            "card_id": "gap-gc-001", "user_id": "user006", "issuer": "Gap", "balance": "100.00",
            "currency_code": "EUR", "expiry_date": "2030-01-31", "status": "disabled",
            "single_use": True, "rechargeable": False, "balance_max": 500,
            "recipient_email": "friend@example.com", "reference": "order 77",
            "metadata": {"campaign": "spring", "batch": 7, "tags": ["a", "b"], "nested": {"ok": True}},
        }
        response = api.post("/gift_cards", body, status=201)
        card = response.json
        assert card["balance"] == 100 and card["initial_balance"] == 100
        assert card["balance_max"] == 500
        for key in ("card_id", "user_id", "issuer", "currency_code", "expiry_date", "status",
                    "single_use", "rechargeable", "recipient_email", "reference", "metadata"):
            assert card[key] == body[key], key
        assert response.headers["Location"] == f"http://localhost:3000/gift_cards/{card['id']}"
        assert api.get(response.headers["Location"]).json == card

    def test_tutorial_card_is_shown_as_the_tutorial_shows_it(self, json_client):
        response = json_client.post("/gift_cards", KOHLS_CARD)
        card = response.json
        assert {key: card[key] for key in KOHLS_CARD} == KOHLS_CARD
        assert '"balance":250,' in response.text

    def test_defaults(self, api):
        card = api.post("/gift_cards", {"card_id": "c1", "issuer": "Kohls", "balance": 40}).json
        assert card["currency_code"] == "USD"
        assert card["status"] == "active"
        assert card["single_use"] is False
        assert card["rechargeable"] is True
        assert card["initial_balance"] == card["balance"] == 40
        assert card["user_id"] is None
        assert card["expiry_date"] is None
        assert card["balance_max"] is None and card["metadata"] is None

    def test_currency_defaults_to_the_issuers(self, json_client):
        json_client.post("/issuers", {"name": "Galeries", "currency_code": "EUR"})
        card = create_card(json_client, issuer="Galeries")
        assert card["currency_code"] == "EUR"

    def test_currency_given_wins_over_the_issuers(self, json_client):
        json_client.post("/issuers", {"name": "Galeries", "currency_code": "EUR"})
        assert create_card(json_client, issuer="Galeries", currency_code="GBP")["currency_code"] == "GBP"

    def test_expiry_date_defaults_from_the_issuers_expires_after(self, json_client):
        json_client.post("/issuers", {"name": "Hanes", "expires_after": "45d"})
        before = utc_today()
        card = json_client.post("/gift_cards", {"card_id": "h1", "issuer": "Hanes", "balance": 1}).json
        after = utc_today()
        assert card["expiry_date"] in {str(before + datetime.timedelta(days=45)),
                                       str(after + datetime.timedelta(days=45))}

    def test_explicit_null_expiry_date_overrides_the_issuers_policy(self, json_client):
        json_client.post("/issuers", {"name": "Hanes", "expires_after": "45d"})
        card = create_card(json_client, issuer="Hanes", expiry_date=None)
        assert card["expiry_date"] is None

    def test_unknown_issuer_name_registers_the_issuer(self, api):
        create_card(api, issuer="Brand New Issuer")
        issuers = items_of(api.get("/issuers"), "fg:issuers")
        assert [issuer["name"] for issuer in issuers] == ["Brand New Issuer"]
        assert issuers[0]["currency_code"] == "USD"

    def test_known_issuer_is_not_registered_twice(self, json_client):
        create_card(json_client, card_id="a")
        create_card(json_client, card_id="b")
        assert [issuer["name"] for issuer in json_client.get("/issuers").json] == ["Kohls"]

    def test_card_links_to_its_issuer(self, client, json_client):
        card = create_card(json_client)
        hal = client.get(f"/gift_cards/{card['id']}", headers={"Accept": HAL}).json
        issuer = json_client.get(hal["_links"]["fg:issuer"]["href"]).json
        assert issuer["name"] == "Kohls"

    @pytest.mark.parametrize("missing", ["card_id", "issuer", "balance"])
    def test_required_field_missing_is_422_naming_it(self, app, api, missing):
        body = {key: value for key, value in KOHLS_CARD.items() if key != missing}
        response = api.post("/gift_cards", body, status=422)
        assert fields_at_fault(response) == [missing]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_empty_body_lists_every_required_field(self, api):
        response = api.post("/gift_cards", {}, status=422)
        assert sorted(fields_at_fault(response)) == ["balance", "card_id", "issuer"]

    def test_duplicate_card_id_is_409_naming_card_id(self, app, api):
        create_card(api)
        before = database_snapshot(app)
        response = api.post("/gift_cards", {**KOHLS_CARD, "issuer": "Other"}, status=409)
        assert fields_at_fault(response) == ["card_id"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("field, value", [
        ("card_id", "c" * 51), ("issuer", "i" * 51), ("reference", "r" * 101),
        ("card_id", ""), ("currency_code", "ABC"), ("currency_code", "usd"),
        ("recipient_email", "not-an-email"), ("single_use", "maybe"), ("rechargeable", 7),
    ])
    def test_invalid_field_is_422_naming_it(self, app, api, field, value):
        response = api.post("/gift_cards", {**KOHLS_CARD, field: value}, status=422)
        assert fields_at_fault(response) == [field]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_longest_allowed_values_are_accepted(self, json_client):
        card = create_card(json_client, card_id="c" * 50, issuer="i" * 50, reference="r" * 100)
        assert (card["card_id"], card["issuer"], card["reference"]) == ("c" * 50, "i" * 50, "r" * 100)

    def test_strings_are_stored_exactly_as_given(self, json_client):
        card = create_card(json_client, card_id="  gc 001  ", issuer=" Kohl’s ", reference="日本 ✓")
        stored = json_client.get(f"/gift_cards/{card['id']}").json
        assert (stored["card_id"], stored["issuer"], stored["reference"]) == (
            "  gc 001  ", " Kohl’s ", "日本 ✓")

    def test_every_field_at_fault_reported_at_once(self, api):
        response = api.post("/gift_cards", {"card_id": "", "issuer": "Kohls", "balance": -1,
                                            "currency_code": "XYZ"}, status=422)
        assert sorted(fields_at_fault(response)) == ["balance", "card_id", "currency_code"]


# -- exact money ---------------------------------------------------------------

class TestBalance:
    @pytest.mark.parametrize("balance", [-1, "-0.01", -0.5])
    def test_negative_balance_is_422(self, app, api, balance):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": balance}, status=422)
        assert fields_at_fault(response) == ["balance"]
        assert all(not rows for rows in database_snapshot(app).values())

    @pytest.mark.parametrize("balance", [12.345, "12.345", 0.001, "0.001"])
    def test_three_decimals_is_422(self, api, balance):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": balance}, status=422)
        assert fields_at_fault(response) == ["balance"]

    @pytest.mark.parametrize("balance", ["abc", "", "12,50", "$12", "1e3", True, None, [12], {"amount": 12}])
    def test_balance_that_is_not_an_amount_is_422(self, api, balance):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": balance}, status=422)
        assert fields_at_fault(response) == ["balance"]

    def test_absurdly_large_balance_is_422_not_500(self, api):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": 10 ** 30}, status=422)
        assert fields_at_fault(response) == ["balance"]

    def test_zero_balance_is_accepted(self, json_client):
        assert create_card(json_client, balance=0)["balance"] == 0

    @pytest.mark.parametrize("balance", ["12.50", 12.5, "12.5"])
    def test_balance_as_string_or_number_is_rendered_exactly(self, api, balance):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": balance}, status=201)
        assert '"balance":12.50' in response.text
        assert '"initial_balance":12.50' in response.text
        fetched = api.get(response.headers["Location"])
        assert '"balance":12.50' in fetched.text

    @pytest.mark.parametrize("sent, shown", [
        (0.1, "0.10"), (0.3, "0.30"), (19.99, "19.99"), (1234567890.07, "1234567890.07"),
        ("0.07", "0.07"), (100.10, "100.10"),
    ])
    def test_amounts_never_show_a_binary_float_residue(self, api, sent, shown):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance": sent}, status=201)
        assert f'"balance":{shown}' in response.text
        assert "99999" not in response.text and "00001" not in response.text

    def test_whole_amounts_are_shown_without_decimals(self, json_client):
        response = json_client.post("/gift_cards", {**KOHLS_CARD, "balance": "200.00"})
        assert '"balance":200,' in response.text

    @pytest.mark.parametrize("method", ["put", "patch"])
    @pytest.mark.parametrize("same", [12.5, "12.50", "12.5"])
    def test_sending_the_same_balance_is_accepted(self, api, method, same):
        card = create_card(api, balance="12.50")
        body = {**KOHLS_CARD, "balance": same} if method == "put" else {"balance": same}
        response = getattr(api, method)(f"/gift_cards/{card['id']}", body, status=200)
        assert '"balance":12.50' in response.text

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_another_balance_is_422_saying_balances_change_through_transactions(
            self, app, api, method):
        card = create_card(api, balance=250)
        before = database_snapshot(app)
        body = {**KOHLS_CARD, "balance": 300} if method == "put" else {"balance": 300}
        response = getattr(api, method)(f"/gift_cards/{card['id']}", body, status=422)
        assert fields_at_fault(response) == ["balance"]
        assert "transaction" in messages(response)
        assert database_snapshot(app) == before
        assert api.get(f"/gift_cards/{card['id']}").json["balance"] == 250

    def test_put_without_balance_keeps_the_balance(self, json_client):
        card = create_card(json_client, balance="12.50")
        body = {key: value for key, value in KOHLS_CARD.items() if key != "balance"}
        assert '"balance":12.50' in json_client.put(f"/gift_cards/{card['id']}", body).text

    def test_initial_balance_is_read_only(self, json_client):
        card = create_card(json_client, balance=250, initial_balance=999)
        assert card["initial_balance"] == 250

    def test_balance_max_below_the_balance_is_422(self, api):
        response = api.post("/gift_cards", {**KOHLS_CARD, "balance_max": 100}, status=422)
        assert fields_at_fault(response) == ["balance_max"]


class TestCurrency:
    def test_changing_the_currency_is_409_currency_fixed(self, app, api):
        card = create_card(api)
        before = database_snapshot(app)
        response = api.patch(f"/gift_cards/{card['id']}", {"currency_code": "EUR"}, status=409)
        assert fields_at_fault(response) == ["currency_code"]
        assert errors_of(response)[0]["logref"] == "currency_fixed"
        assert database_snapshot(app) == before

    def test_changing_the_currency_by_put_is_409(self, api):
        card = create_card(api)
        response = api.put(f"/gift_cards/{card['id']}", {**KOHLS_CARD, "currency_code": "EUR"}, status=409)
        assert fields_at_fault(response) == ["currency_code"]

    def test_repeating_the_currency_is_accepted(self, json_client):
        card = create_card(json_client)
        json_client.patch(f"/gift_cards/{card['id']}", {"currency_code": "USD"}, status=200)

    def test_put_without_currency_keeps_it(self, json_client):
        card = create_card(json_client, currency_code="CAD")
        assert json_client.put(f"/gift_cards/{card['id']}", KOHLS_CARD).json["currency_code"] == "CAD"


# -- changing a card -----------------------------------------------------------

class TestChange:
    def test_patch_changes_only_the_fields_sent(self, api):
        card = create_card(api, reference="r1", single_use=True)
        body = api.patch(f"/gift_cards/{card['id']}", {"reference": "r2"}).json
        assert body["reference"] == "r2"
        assert body["single_use"] is True and body["expiry_date"] == "2026-12-31"

    def test_put_clears_omitted_optional_fields(self, api):
        card = create_card(api, reference="r1", single_use=True, rechargeable=False,
                           recipient_email="a@example.com", metadata={"k": "v"})
        body = api.put(f"/gift_cards/{card['id']}", {"card_id": "kohls-gc-001", "issuer": "Kohls"}).json
        assert body["reference"] is None and body["recipient_email"] is None
        assert body["metadata"] is None and body["expiry_date"] is None
        assert body["single_use"] is False and body["rechargeable"] is True
        assert body["balance"] == 250

    def test_put_of_what_get_returned_is_accepted_unchanged(self, api):
        card = create_card(api, balance="12.50")
        current = api.get(f"/gift_cards/{card['id']}").json
        response = api.put(f"/gift_cards/{card['id']}", current)
        assert '"balance":12.50' in response.text
        assert response.json["card_id"] == KOHLS_CARD["card_id"]

    def test_put_without_card_id_is_422(self, api):
        card = create_card(api)
        response = api.put(f"/gift_cards/{card['id']}", {"issuer": "Kohls", "balance": 250}, status=422)
        assert fields_at_fault(response) == ["card_id"]

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_taking_another_cards_card_id_is_409(self, app, api, method):
        create_card(api)
        other = create_card(api, card_id="kohls-gc-002")
        before = database_snapshot(app)
        response = getattr(api, method)(f"/gift_cards/{other['id']}",
                                        {**KOHLS_CARD, "card_id": "kohls-gc-001"}, status=409)
        assert fields_at_fault(response) == ["card_id"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("issuer", ["Hanes", "Gap"])
    def test_a_cards_issuer_is_fixed_once_issued(self, app, json_client, issuer):
        card = create_card(json_client)
        json_client.post("/issuers", {"name": "Gap"})
        before = database_snapshot(app)
        response = json_client.patch(f"/gift_cards/{card['id']}", {"issuer": issuer}, status=409)
        assert fields_at_fault(response) == ["issuer"] and "fixed" in messages(response)
        assert database_snapshot(app) == before
        assert sorted(issuer["name"] for issuer in json_client.get("/issuers").json) == ["Gap", "Kohls"]

    @pytest.mark.parametrize("id", ["42", *HUGE_IDS])
    @pytest.mark.parametrize("method", ["get", "patch", "delete"])
    def test_unknown_card_is_404(self, json_client, method, id):
        url = f"/gift_cards/{id}"
        response = (json_client.patch(url, {"reference": "x"}, status=404) if method == "patch"
                    else getattr(json_client, method)(url, status=404))
        errors_of(response)


class TestMetadata:
    def test_metadata_up_to_4_kib_is_accepted(self, json_client):
        metadata = {"note": "x" * 4000}
        assert create_card(json_client, metadata=metadata)["metadata"] == metadata

    def test_metadata_over_4_kib_is_422(self, app, api):
        response = api.post("/gift_cards", {**KOHLS_CARD, "metadata": {"note": "x" * 5000}}, status=422)
        assert fields_at_fault(response) == ["metadata"]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_metadata_over_4_kib_on_patch_is_422(self, json_client):
        card = create_card(json_client, metadata={"a": 1})
        json_client.patch(f"/gift_cards/{card['id']}", {"metadata": {"note": "x" * 5000}}, status=422)
        assert json_client.get(f"/gift_cards/{card['id']}").json["metadata"] == {"a": 1}

    @pytest.mark.parametrize("metadata", [["a"], "text", 5, True])
    def test_metadata_that_is_not_an_object_is_422(self, api, metadata):
        response = api.post("/gift_cards", {**KOHLS_CARD, "metadata": metadata}, status=422)
        assert fields_at_fault(response) == ["metadata"]

    def test_metadata_with_fractional_numbers_round_trips(self, json_client):
        metadata = {"rate": 1.5, "weights": [0.25, 2]}
        response = json_client.post("/gift_cards", {**KOHLS_CARD, "metadata": metadata}, status=201)
        assert json_client.get(response.headers["Location"]).json["metadata"] == metadata

    def test_metadata_numbers_keep_every_digit_they_were_sent_with(self, json_client):
        body = (b'{"card_id": "exact-1", "issuer": "Kohls", "balance": 5, '
                b'"metadata": {"rate": 0.1000000000000000055511151231257827, "big": 12345678901234567890.5}}')
        created = json_client.raw("POST", "/gift_cards", body, status=201)
        text = json_client.get(created.headers["Location"]).body
        assert b'"rate":0.1000000000000000055511151231257827' in text
        assert b'"big":12345678901234567890.5' in text


class TestStatus:
    def test_disable_and_reactivate_by_patch(self, api):
        card = create_card(api)
        assert api.patch(f"/gift_cards/{card['id']}", {"status": "disabled"}).json["status"] == "disabled"
        assert api.get(f"/gift_cards/{card['id']}").json["status"] == "disabled"
        assert api.patch(f"/gift_cards/{card['id']}", {"status": "active"}).json["status"] == "active"
        assert api.get(f"/gift_cards/{card['id']}").json["status"] == "active"

    def test_card_can_be_created_disabled(self, json_client):
        assert create_card(json_client, status="disabled")["status"] == "disabled"

    def test_put_without_status_keeps_it(self, json_client):
        card = create_card(json_client, status="disabled")
        assert json_client.put(f"/gift_cards/{card['id']}", KOHLS_CARD).json["status"] == "disabled"

    @pytest.mark.parametrize("status", ["redeemed", "expired", "frozen", "", "ACTIVE", None])
    def test_status_other_than_active_or_disabled_is_422_on_patch(self, app, api, status):
        card = create_card(api)
        before = database_snapshot(app)
        response = api.patch(f"/gift_cards/{card['id']}", {"status": status}, status=422)
        assert fields_at_fault(response) == ["status"]
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("status", ["redeemed", "expired"])
    def test_status_set_by_the_service_is_422_on_create_and_put(self, app, api, status):
        response = api.post("/gift_cards", {**KOHLS_CARD, "status": status}, status=422)
        assert fields_at_fault(response) == ["status"]
        assert all(not rows for rows in database_snapshot(app).values())
        card = create_card(api)
        response = api.put(f"/gift_cards/{card['id']}", {**KOHLS_CARD, "status": status}, status=422)
        assert fields_at_fault(response) == ["status"]

    def test_card_past_its_expiry_date_shows_expired(self, json_client):
        yesterday = utc_today() - datetime.timedelta(days=1)
        card = create_card(json_client, expiry_date=str(yesterday))
        assert card["status"] == "expired"

    def test_card_is_active_through_its_expiry_day(self, json_client):
        card = create_card(json_client, expiry_date=str(utc_today() + datetime.timedelta(days=1)))
        assert card["status"] == "active"


class TestExpiryDate:
    @pytest.mark.parametrize("date", ["2026-12-31", "2024-02-29", "9999-12-31"])
    def test_iso_dates_are_accepted_and_shown_as_given(self, json_client, date):
        assert create_card(json_client, expiry_date=date)["expiry_date"] == date

    @pytest.mark.parametrize("date", ["12/31/2026", "31.12.2026", "2026-13-01", "2026-02-30",
                                      "2025-02-29", "tomorrow", "", 20261231, True, ["2026-12-31"]])
    def test_other_formats_are_422_naming_expiry_date(self, app, api, date):
        response = api.post("/gift_cards", {**KOHLS_CARD, "expiry_date": date}, status=422)
        assert fields_at_fault(response) == ["expiry_date"]
        assert all(not rows for rows in database_snapshot(app).values())

    def test_expiry_date_can_be_changed_and_cleared(self, json_client):
        card = create_card(json_client)
        url = f"/gift_cards/{card['id']}"
        assert json_client.patch(url, {"expiry_date": "2027-06-30"}).json["expiry_date"] == "2027-06-30"
        assert json_client.patch(url, {"expiry_date": None}).json["expiry_date"] is None


# -- deleting --------------------------------------------------------------------

class TestDelete:
    def test_issued_card_cannot_be_deleted_it_has_its_issue_entry(self, app, api):
        card = create_card(api)
        before = database_snapshot(app)
        response = api.delete(f"/gift_cards/{card['id']}", status=409)
        entry = errors_of(response)[0]
        assert "disable" in entry["message"].lower()
        assert database_snapshot(app) == before
        assert api.get(f"/gift_cards/{card['id']}").json["card_id"] == KOHLS_CARD["card_id"]
