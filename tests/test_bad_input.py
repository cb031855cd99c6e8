"""Bodies a client should not send: malformed JSON, the wrong media type, too much,
text no database can hold, and arbitrary JSON. Never a 5xx, never a partial write,
and an error body that says what is wrong (SPEC 3.4, 3.5, 8)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from api_helpers import (HAL, JSON_FORMATS, PLAIN, database_snapshot, errors_of,
                         fields_at_fault, messages, row_counts)

FORM = "application/x-www-form-urlencoded"
MIB = 1024 * 1024
JACK = {"user_id": "user006", "amazon_id": "amz3456", "name": "Jack Johnson",
        "email": "jack.johnson@example.com"}
REQUIRED = {
    "/users": ["user_id"],
    "/gift_cards": ["balance", "card_id", "issuer"],
    "/products": ["eligible_issuer", "name", "price", "product_id"],
}


def nothing_stored(app) -> bool:
    return all(count == 0 for count in row_counts(app).values())


# -- malformed JSON --------------------------------------------------------------------

MALFORMED = [
    # body, line, column: where the fault is
    pytest.param(b'{"user_id": "a",}', 1, 16, id="trailing-comma-object"),
    pytest.param(b'{"user_id": "a", "gift_cards": ["x",]}', 1, 36, id="trailing-comma-array"),
    pytest.param(b'{"user_id": "abc', 1, 13, id="unterminated-string"),
    pytest.param(b'{"user_id": tru}', 1, 13, id="bare-word"),
    pytest.param(b'{"user_id": abc}', 1, 13, id="bare-word-abc"),
    pytest.param(b'{user_id: "a"}', 1, 2, id="unquoted-name"),
    pytest.param(b"{'user_id': 'a'}", 1, 2, id="single-quotes"),
    pytest.param(b'{\n  "user_id": "a"\n  "name": "b"\n}', 3, 3, id="missing-comma-line-3"),
    pytest.param(b'{"user_id": "a"', 1, 16, id="missing-brace"),
    pytest.param(b'{"user_id": "a"} {}', 1, 18, id="extra-data"),
    pytest.param(b'{"user_id": "a", // note\n}', 1, 18, id="comment"),
    pytest.param(b'{"user_id": "tab\there"}', 1, 17, id="raw-control-character"),
    pytest.param(b'{"user_id": "a",\n "name": NaN}', 2, 10, id="NaN"),
    pytest.param(b'{"user_id": "a",\n "name": Infinity}', 2, 10, id="Infinity"),
    pytest.param(b'{"user_id": "a",\n "name": -Infinity}', 2, 10, id="-Infinity"),
    pytest.param(b'{"user_id": "NaN", "name":\n\n    NaN}', 3, 5, id="NaN-after-NaN-text"),
]


class TestMalformedJson:
    @pytest.mark.parametrize("body, line, column", MALFORMED)
    def test_malformed_json_is_400_naming_line_and_column(self, app, json_client, body, line, column):
        response = json_client.raw("POST", "/users", body)
        assert response.status_int == 400
        message = messages(response)
        assert f"line {line}, column {column}" in message, message
        assert not message.rstrip(".").endswith(" at"), message
        assert nothing_stored(app)

    @pytest.mark.parametrize("path", ["/users/1", "/gift_cards/1", "/products/1"])
    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    def test_malformed_json_on_a_write_to_an_item_is_400(self, app, json_client, method, path):
        json_client.post("/users", {"user_id": "u"})
        json_client.post("/gift_cards", {"card_id": "c", "issuer": "K", "balance": 1})
        json_client.post("/products", {"product_id": "p", "name": "n", "price": 1, "eligible_issuer": "K"})
        before = database_snapshot(app)
        response = json_client.raw(method, path, b'{"name": "x",}')
        assert response.status_int == 400
        assert "line 1, column 13" in messages(response)
        assert database_snapshot(app) == before

    def test_trailing_comma_is_named_as_such(self, json_client):
        response = json_client.raw("POST", "/users", b'{"user_id": "a",}')
        assert "trailing comma" in messages(response)

    @pytest.mark.parametrize("body", [b"[]", b'[{"user_id": "a"}]', b'"user006"', b"42", b"null",
                                      b"true", b"12.5"])
    def test_body_that_is_not_an_object_is_400(self, app, json_client, body):
        response = json_client.raw("POST", "/users", body)
        assert response.status_int == 400
        assert "object" in messages(response)
        assert nothing_stored(app)

    @pytest.mark.parametrize("body", [
        b'{"user_id": "\xff"}', b'{"user_id": "\xc3\x28"}', b'{"user_id": "Zo\xeb"}',
        b'{"user_id": "\xc0\xaf"}', b'{"user_id": "\xed\xa0\x80"}', b'\xff\xfe{\x00}\x00',
    ], ids=["ff", "bad-continuation", "latin-1", "overlong", "encoded-surrogate", "utf-16"])
    def test_invalid_utf8_is_400(self, app, json_client, body):
        response = json_client.raw("POST", "/users", body)
        assert response.status_int == 400
        assert "UTF-8" in messages(response)
        assert nothing_stored(app)

    @pytest.mark.parametrize("body, line, column", [
        (b'{"user_id": "a\\ud800b"}', 1, 15),
        (b'{"user_id": "a",\n "name": "\\udc00"}', 2, 11),
        (b'{"\\ud83d": "a"}', 1, 3),
        (b'{"user_id": "a", "gift_cards": ["\\ud83d\\u0041"]}', 1, 34),
    ], ids=["high-alone", "low-alone", "in-a-name", "high-then-not-low"])
    def test_lone_surrogate_escape_is_400_naming_line_and_column(self, app, json_client, body, line, column):
        response = json_client.raw("POST", "/users", body)
        assert response.status_int == 400
        assert f"line {line}, column {column}" in messages(response)
        assert nothing_stored(app)

    def test_escaped_surrogate_pair_is_one_character(self, json_client):
        response = json_client.raw("POST", "/users", b'{"user_id": "smile \\ud83d\\ude00"}')
        assert response.status_int == 201
        assert response.json["user_id"] == "smile \U0001F600"

    def test_escaped_backslash_before_u_is_not_an_escape(self, json_client):
        response = json_client.raw("POST", "/users", b'{"user_id": "\\\\ud800"}')
        assert response.status_int == 201
        assert response.json["user_id"] == "\\ud800"

    def test_deeply_nested_json_is_400_not_500(self, json_client):
        response = json_client.raw("POST", "/users", b"[" * 100_000 + b"]" * 100_000)
        assert response.status_int == 400
        errors_of(response)

    @pytest.mark.parametrize("sign", ["", "-"])
    def test_number_with_thousands_of_digits_is_422_naming_its_field(self, app, json_client, sign):
        digits = sign.encode() + b"1" + b"0" * 5000
        response = json_client.raw("POST", "/gift_cards",
                                   b'{"card_id": "c", "issuer": "K", "balance": ' + digits + b"}")
        assert response.status_int == 422
        assert fields_at_fault(response) == ["balance"]
        assert nothing_stored(app)

    def test_number_with_thousands_of_digits_as_a_name_is_422(self, json_client):
        response = json_client.raw("POST", "/users", b'{"user_id": 1' + b"0" * 5000 + b"}")
        assert response.status_int == 422
        assert fields_at_fault(response) == ["user_id"]


# -- text no database column can hold ------------------------------------------------

NUL_CASES = [
    ("/users", {"user_id": "user\x00006"}, "user_id"),
    ("/users", {"user_id": "u", "name": "\x00"}, "name"),
    ("/gift_cards", {"card_id": "gc\x00", "issuer": "K", "balance": 1}, "card_id"),
    ("/gift_cards", {"card_id": "gc", "issuer": "K\x00", "balance": 1}, "issuer"),
    ("/gift_cards", {"card_id": "gc", "issuer": "K", "balance": 1, "reference": "a\x00b"}, "reference"),
    ("/products", {"product_id": "p\x00", "name": "n", "price": 1, "eligible_issuer": "K"}, "product_id"),
    ("/products", {"product_id": "p", "name": "n", "price": 1, "eligible_issuer": "\x00K"}, "eligible_issuer"),
    ("/issuers", {"name": "K\x00"}, "name"),
]


class TestNulCharacter:
    @pytest.mark.parametrize("path, body, field", NUL_CASES)
    def test_nul_character_is_422_naming_the_field_on_every_database(self, app, json_client, path, body, field):
        response = json_client.raw("POST", path, json.dumps(body).encode())
        assert response.status_int == 422, response.text
        assert fields_at_fault(response) == [field]
        assert nothing_stored(app)

    def test_nul_character_in_a_list_item_is_422(self, json_client):
        response = json_client.raw("POST", "/users", b'{"user_id": "u", "gift_cards": ["c\\u0000"]}')
        assert response.status_int == 422
        assert fields_at_fault(response) == ["gift_cards"]

    def test_nul_character_on_patch_is_422_and_nothing_changes(self, app, json_client):
        json_client.post("/users", JACK)
        before = database_snapshot(app)
        response = json_client.raw("PATCH", "/users/1", b'{"name": "x\\u0000", "email": "bad"}')
        assert response.status_int == 422
        assert "name" in fields_at_fault(response)
        assert database_snapshot(app) == before

    def test_nul_character_in_a_form_is_422(self, app, json_client):
        response = json_client.raw("POST", "/users", b"user_id=a%00b", content_type=FORM)
        assert response.status_int == 422
        assert fields_at_fault(response) == ["user_id"]
        assert nothing_stored(app)


# -- media types and sizes ------------------------------------------------------------

class TestMediaType:
    @pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/xml",
                                              "multipart/form-data; boundary=x", "application/octet-stream"])
    def test_body_of_another_media_type_is_415(self, app, json_client, content_type):
        response = json_client.raw("POST", "/users", b'{"user_id": "u"}', content_type=content_type)
        assert response.status_int == 415
        assert "application/json" in messages(response)
        assert nothing_stored(app)

    def test_body_without_content_type_is_415(self, app, client):
        response = client.request("/users", method="POST", body=b'{"user_id": "u"}',
                                  headers={"Accept": PLAIN}, expect_errors=True)
        assert response.status_int == 415
        assert nothing_stored(app)

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    def test_write_to_an_item_of_another_media_type_is_415(self, app, json_client, method):
        json_client.post("/users", JACK)
        before = database_snapshot(app)
        response = json_client.raw(method, "/users/1", b"<user><name>x</name></user>",
                                   content_type="application/xml")
        assert response.status_int == 415
        assert database_snapshot(app) == before

    @pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/hal+json",
                                              "Application/JSON"])
    def test_json_media_types_are_accepted(self, json_client, content_type):
        response = json_client.raw("POST", "/users", b'{"user_id": "u"}', content_type=content_type)
        assert response.status_int == 201

    def test_body_over_1_mib_is_413_and_nothing_is_written(self, app, json_client):
        body = json.dumps({"user_id": "u", "name": "x" * MIB}).encode()
        response = json_client.raw("POST", "/users", body)
        assert response.status_int == 413
        errors_of(response)
        assert nothing_stored(app)

    def test_body_over_1_mib_on_put_is_413(self, app, json_client):
        json_client.post("/users", JACK)
        before = database_snapshot(app)
        response = json_client.raw("PUT", "/users/1", b'{"user_id": "u"}' + b" " * MIB)
        assert response.status_int == 413
        assert database_snapshot(app) == before

    def test_body_of_exactly_1_mib_is_read(self, json_client):
        body = b'{"user_id": "u"}'
        response = json_client.raw("POST", "/users", body + b" " * (MIB - len(body)))
        assert response.status_int == 201

    @pytest.mark.parametrize("body", [b"", b"   \n\t "])
    @pytest.mark.parametrize("path", sorted(REQUIRED))
    def test_empty_body_is_422_listing_every_required_field(self, app, json_client, path, body):
        response = json_client.raw("POST", path, body)
        assert response.status_int == 422
        assert sorted(fields_at_fault(response)) == REQUIRED[path]
        assert nothing_stored(app)

    def test_utf8_byte_order_mark_is_tolerated(self, json_client):
        response = json_client.raw("POST", "/users", b'\xef\xbb\xbf{"user_id": "bom"}')
        assert response.status_int == 201
        assert response.json["user_id"] == "bom"


class TestFormEncoding:
    def test_form_creates_a_user_the_same_as_json(self, json_client):
        from_json = json_client.post("/users", JACK).json
        form = {**JACK, "user_id": "user007"}
        response = json_client.raw("POST", "/users", urlencode(form).encode(), content_type=FORM)
        assert response.status_int == 201
        from_form = response.json
        assert response.headers["Location"].endswith(f"/users/{from_form['id']}")
        same = ("amazon_id", "name", "email", "gift_cards")
        assert {key: from_form[key] for key in same} == {key: from_json[key] for key in same}
        assert from_form["user_id"] == "user007"

    def test_form_values_are_taken_exactly(self, json_client):
        form = {"user_id": "  spaced  ", "name": "Zoë & Co = 100%"}
        response = json_client.raw("POST", "/users", urlencode(form).encode(), content_type=FORM)
        assert (response.json["user_id"], response.json["name"]) == ("  spaced  ", "Zoë & Co = 100%")

    def test_empty_form_box_means_no_value(self, json_client):
        response = json_client.raw("POST", "/users", b"user_id=u&email=&name=", content_type=FORM)
        assert response.status_int == 201
        assert response.json["email"] is None and response.json["name"] is None

    def test_form_lists_card_ids_comma_separated(self, json_client):
        for card_id in ("c1", "c2"):
            json_client.post("/gift_cards", {"card_id": card_id, "issuer": "K", "balance": 1})
        response = json_client.raw("POST", "/users", b"user_id=u&gift_cards=c1%2C+c2", content_type=FORM)
        assert response.json["gift_cards"] == ["c1", "c2"]

    def test_form_validation_reports_every_field(self, json_client):
        response = json_client.raw("POST", "/users", b"email=nope&hat=yes", content_type=FORM)
        assert response.status_int == 422
        assert sorted(fields_at_fault(response)) == ["email", "hat", "user_id"]

    def test_form_creates_a_gift_card_with_exact_money(self, json_client):
        response = json_client.raw("POST", "/gift_cards", b"card_id=c1&issuer=Kohls&balance=12.50",
                                   content_type=FORM)
        assert response.status_int == 201
        assert '"balance":12.50' in response.text

    def test_form_patch_changes_only_the_fields_sent(self, json_client):
        json_client.post("/users", JACK)
        response = json_client.raw("PATCH", "/users/1", b"name=Jack+J.", content_type=FORM)
        assert response.status_int == 200
        assert response.json["name"] == "Jack J." and response.json["email"] == JACK["email"]

    def test_form_with_invalid_utf8_is_400(self, app, json_client):
        response = json_client.raw("POST", "/users", b"user_id=a%FFb", content_type=FORM)
        assert response.status_int == 400
        assert "UTF-8" in messages(response)
        assert nothing_stored(app)


@pytest.mark.parametrize("path", ["/users", "/gift_cards", "/users/1", "/"])
@pytest.mark.parametrize("accept", [HAL, PLAIN])
def test_a_query_string_that_is_not_utf8_is_400(client, path, accept):
    # WebTest sends the É as one raw Latin-1 byte, as a client that does not percent-encode would.
    response = client.get(f"{path}?name=\u00c9mile", headers={"Accept": accept}, status=400)
    assert "UTF-8" in messages(response)
    assert [entry.get("logref") for entry in errors_of(response)] == ["bad_query_string"]


# -- the shape of an error -----------------------------------------------------------------

def _bad_request(json_client):
    return json_client.raw("POST", "/users", b'{"user_id": "a",}')


def _not_found(json_client):
    return json_client.get("/users/42", status=404)


def _conflict(json_client):
    json_client.client.post_json("/users", {"user_id": "u"})
    return json_client.post("/users", {"user_id": "u"}, status=409)


def _too_large(json_client):
    return json_client.raw("POST", "/users", b"{}" + b" " * MIB)


def _unsupported(json_client):
    return json_client.raw("POST", "/users", b"{}", content_type="text/plain")


def _invalid(json_client):
    return json_client.post("/users", {"user_id": "u" * 51, "email": "x"}, status=422)


ERRORS = [(_bad_request, 400, 1), (_not_found, 404, 1), (_conflict, 409, 1), (_too_large, 413, 1),
          (_unsupported, 415, 1), (_invalid, 422, 2)]


class TestErrorShape:
    @pytest.mark.parametrize("make, status, total", ERRORS, ids=[str(status) for _, status, _ in ERRORS])
    def test_hal_error_body(self, client, json_client, make, status, total):
        response = make(type(json_client)(client, accept=HAL))
        assert response.status_int == status
        assert response.content_type == HAL
        body = response.json
        assert body["total"] == total
        entries = body["_embedded"]["fg:errors"]
        assert len(entries) == total
        assert all({"logref", "message"} <= set(entry) for entry in entries)

    @pytest.mark.parametrize("make, status, total", ERRORS, ids=[str(status) for _, status, _ in ERRORS])
    def test_plain_json_error_body(self, json_client, make, status, total):
        response = make(json_client)
        assert response.status_int == status
        assert response.content_type == PLAIN
        body = response.json
        assert body["total"] == total
        assert len(body["errors"]) == total
        assert all({"logref", "message"} <= set(entry) for entry in body["errors"])

    @pytest.mark.parametrize("accept", JSON_FORMATS)
    def test_validation_errors_each_name_their_field(self, client, json_client, accept):
        response = _invalid(type(json_client)(client, accept=accept))
        entries = errors_of(response)
        assert sorted(entry["field"] for entry in entries) == ["email", "user_id"]
        assert all(entry["logref"] == "validation_failed" for entry in entries)

    @pytest.mark.parametrize("accept", JSON_FORMATS)
    def test_conflict_names_the_field_and_the_value(self, client, json_client, accept):
        response = _conflict(type(json_client)(client, accept=accept))
        entry = errors_of(response)[0]
        assert entry["field"] == "user_id" and "'u'" in entry["message"]

    def test_error_for_a_client_that_accepts_anything_is_hal(self, client):
        response = client.post("/users", b"[]", headers={"Content-Type": PLAIN, "Accept": "*/*"},
                               expect_errors=True)
        assert response.status_int == 400
        assert response.content_type == HAL
        errors_of(response)


# -- arbitrary JSON ----------------------------------------------------------------------

FIELDS = {
    "users": ["user_id", "amazon_id", "name", "email", "gift_cards"],
    "gift_cards": ["card_id", "user_id", "issuer", "balance", "currency_code", "expiry_date", "status",
                   "single_use", "rechargeable", "balance_max", "recipient_email", "reference",
                   "metadata", "initial_balance"],
    "products": ["product_id", "name", "price", "eligible_issuer", "currency_code"],
}
PLAUSIBLE_TEXT = ["", " ", "user006", "kohls-gc-001", "Kohls", "12.50", "-1", "0", "1.005", "2026-12-31",
                  "a@example.com", "active", "disabled", "redeemed", "USD", "EUR", "x" * 60,
                  "http://localhost:3000/users/1", "http://localhost:3000/users/99999999999999999999"]
AWKWARD_TEXT = ["\x00", "nul\x00in the middle", "\ud800", "lone \udfff surrogate", "\ufeff", " ",
                "\u202eright-to-left"]
TRICKY_CHARACTERS = "\x00\ud800\udfff\ufffe\u202e é😀\n\"\\"

texts = st.sampled_from(PLAUSIBLE_TEXT) | st.text(
    st.characters() | st.sampled_from(TRICKY_CHARACTERS), min_size=1, max_size=12)
scalars = (texts | st.none() | st.booleans() | st.integers(min_value=-(10 ** 20), max_value=10 ** 20)
           | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
links = st.fixed_dictionaries({"fg:user": st.none() | st.fixed_dictionaries({"href": texts}) | json_values})


VALID = {
    "users": {"user_id": "user-new", "name": "New", "email": "new@example.com"},
    "gift_cards": {"card_id": "gc-new", "issuer": "Kohls", "balance": "10.00"},
    "products": {"product_id": "p-new", "name": "Bowl", "price": "5.00", "eligible_issuer": "Kohls"},
}


def weighted(*choices):
    """One of several strategies, drawn in proportion to their weights (``|`` would
    flatten nested choices and weigh every leaf alike)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def bodies(resource: str):
    """Mostly a valid body with a few fields replaced by plausible, awkward or arbitrary
    values (so that requests get past validation to the database), sometimes with
    unknown names or links, and sometimes any JSON value at all."""
    values = weighted((2, st.sampled_from(PLAUSIBLE_TEXT)), (2, st.sampled_from(AWKWARD_TEXT)),
                      (1, texts), (1, scalars), (1, json_values))
    objects = st.builds(
        lambda base, changes, unknown, link: {**base, **changes, **unknown, **link},
        weighted((3, st.just(VALID[resource])), (1, st.just({}))),
        st.dictionaries(st.sampled_from(FIELDS[resource]), values, max_size=3),
        weighted((3, st.just({})), (1, st.dictionaries(texts, json_values, min_size=1, max_size=2))),
        weighted((3, st.just({})), (1, st.fixed_dictionaries({"_links": links}))),
    )
    return weighted((9, objects), (1, json_values))


def seed(json_client) -> None:
    json_client.post("/users", JACK)
    json_client.post("/gift_cards", {"card_id": "kohls-gc-001", "issuer": "Kohls", "balance": 50,
                                     "user_id": "user006"})
    json_client.post("/products", {"product_id": "p1", "name": "Bed", "price": 50, "eligible_issuer": "Kohls"})


@pytest.mark.parametrize("resource", sorted(FIELDS))
def test_arbitrary_json_is_never_a_5xx_and_a_failed_write_leaves_nothing(app, json_client, resource):
    seed(json_client)

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(method=st.sampled_from(["POST", "PUT", "PATCH"]), body=bodies(resource), ascii=st.booleans())
    def check(method, body, ascii):
        url = f"/{resource}" if method == "POST" else f"/{resource}/1"
        # Escaped (\uXXXX) or as UTF-8, where a lone surrogate makes the bytes invalid.
        raw = json.dumps(body, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
        note(f"{method} {url} {raw!r}")
        before = database_snapshot(app)
        response = json_client.raw(method, url, raw)
        assert response.status_int < 500, response.text
        if response.status_int >= 400:
            errors_of(response)
            assert database_snapshot(app) == before

    check()
