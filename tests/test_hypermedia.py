"""The API as a hypermedia client sees it: one root URL, link relations, and
every URL answering in every media type, with OPTIONS, HEAD, 405, 406, 304
and 412 behaving the same everywhere.
"""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from flexigift.demo import load_demo_data
from hypermedia import HAL, HAL_XML, HTML, MEDIA_TYPES, PLAIN, SIREN, links_of, siren_actions, well_formed

ROOT = "http://localhost:3000"
#: Links to the API's descriptions for tools (OpenAPI, Postman): JSON documents, not resources.
DESCRIPTIONS = {"service-desc", "fg:postman"}


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo_data()
    return app


def sample_urls():
    """One URL of every kind of route, in the demo data."""
    return [
        "/", "/rels", "/rels/users", "/rels/gift_card",
        "/users", "/users/1", "/users/1/gift_cards",
        "/gift_cards", "/gift_cards/1", "/products", "/products/1",
        "/issuers", "/issuers/1", "/issuers/1/gift_cards", "/issuers/1/products",
    ]


def path_of(href: str) -> str:
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}" == ROOT, href
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client, media_type: str, limit: int = 400) -> tuple[set[str], set[str]]:
    """Follow every link from the root; the paths visited and the relations seen."""
    seen, rels, queue = set(), set(), ["/"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, headers={"Accept": media_type})
        assert response.content_type == media_type
        document = well_formed(response)
        for rel, href in links_of(media_type, document):
            rels.add(rel)
            if rel in DESCRIPTIONS or rel.endswith("/rels/postman"):
                continue  # documents for tools (JSON whatever the Accept), tested on their own
            target = path_of(href)
            if target not in seen:
                queue.append(target)
    return seen, rels


@pytest.mark.parametrize("media_type", [HAL, HAL_XML, SIREN])
def test_every_collection_and_item_is_reachable_from_the_root(demo, client, media_type):
    seen, rels = crawl(client, media_type)
    paths = {urlsplit(path).path for path in seen}
    for collection in ("/users", "/gift_cards", "/products", "/issuers", "/rels"):
        assert collection in paths
    for item in ("/users/5", "/gift_cards/8", "/products/4", "/issuers/3", "/users/1/gift_cards",
                 "/issuers/1/products", "/rels/gift_card"):
        assert item in paths, f"{item} not reached in {media_type}"


def test_every_siren_action_is_reachable_and_described(demo, client):
    seen, _ = crawl(client, SIREN)
    names = set()
    for path in seen:
        document = client.get(path, headers={"Accept": SIREN}).json
        for action in siren_actions(document):
            names.add((action["name"], action["method"]))
            assert path_of(action["href"])
            for field in action.get("fields", []):
                assert field["name"] and field["type"]
    assert {("create", "POST"), ("update", "PATCH"), ("delete", "DELETE")} <= names


@pytest.mark.parametrize("media_type", MEDIA_TYPES + ["*/*"])
@pytest.mark.parametrize("url", sample_urls())
def test_every_url_answers_well_formed_in_every_media_type(demo, client, url, media_type):
    response = client.get(url, headers={"Accept": media_type})
    expected = HAL if media_type == "*/*" else media_type
    assert response.content_type == expected
    assert response.headers["Vary"] == "Accept"
    assert response.headers["ETag"]
    well_formed(response)


def test_the_home_links_every_collection_with_titles(demo, client):
    links = client.get("/").json["_links"]
    assert links["curies"] == [{"name": "fg", "href": f"{ROOT}/rels/{{rel}}", "templated": True}]
    for rel in ("fg:users", "fg:gift_cards", "fg:products", "fg:issuers", "fg:rels"):
        assert links[rel]["href"].startswith(ROOT) and links[rel]["title"]


@pytest.mark.parametrize("media_type", [HAL, PLAIN, SIREN, HAL_XML, HTML])
def test_a_relation_is_documented_with_methods_and_fields(demo, client, media_type):
    response = client.get("/rels/gift_card", headers={"Accept": media_type})
    well_formed(response)
    if media_type in (HAL, PLAIN):
        document = response.json
        assert "PATCH" in document["methods"]
        names = {field["name"] for field in document["fields"]["PUT"]}
        assert {"card_id", "issuer", "balance", "user_id"} <= names


def test_unknown_relation_is_404(demo, client):
    client.get("/rels/nonsense", status=404)


# -- OPTIONS, HEAD, 405 ------------------------------------------------------------

@pytest.mark.parametrize("url", sample_urls())
def test_options_lists_methods_in_allow_and_body(demo, client, url):
    response = client.options(url, headers={"Accept": PLAIN})
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "HEAD", "OPTIONS"} <= allowed
    assert set(response.json["methods"]) == allowed
    assert response.headers["Vary"] == "Accept"


def test_options_body_lists_the_fields_of_each_write(demo, client):
    body = client.options("/users/1", headers={"Accept": PLAIN}).json
    assert {"PUT", "PATCH"} <= set(body["fields"])
    user_id = next(field for field in body["fields"]["PUT"] if field["name"] == "user_id")
    assert user_id["required"] is True and user_id["max_length"] == 50
    siren = client.options("/users", headers={"Accept": SIREN})
    well_formed(siren)


@pytest.mark.parametrize("url", sample_urls())
def test_head_has_the_get_headers_and_no_body(demo, client, url):
    get = client.get(url)
    head = client.head(url)
    assert head.body == b""
    for header in ("Content-Type", "ETag", "Vary", "Content-Length"):
        assert head.headers.get(header) == get.headers.get(header), header


@pytest.mark.parametrize("url, method", [
    ("/users", "PUT"), ("/users", "DELETE"), ("/users/1", "POST"), ("/", "POST"),
    ("/rels", "DELETE"), ("/users/1/gift_cards", "POST"), ("/gift_cards", "PATCH"),
])
@pytest.mark.parametrize("media_type", [HAL, PLAIN, HAL_XML, SIREN, HTML])
def test_unsupported_method_is_405_with_allow(demo, client, url, method, media_type):
    response = client.request(url, method=method, headers={"Accept": media_type},
                              expect_errors=True)
    assert response.status_int == 405
    assert "GET" in response.headers["Allow"]
    assert method not in response.headers["Allow"]
    assert response.content_type == media_type
    well_formed(response)


# -- negotiation -------------------------------------------------------------------

@pytest.mark.parametrize("accept, expected", [
    ("application/json", PLAIN),
    ("application/json, */*", PLAIN),
    ("application/hal+json;q=0.5, application/vnd.siren+json", SIREN),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
    ("application/xml", HAL_XML),
    ("*/*;q=0.1, application/json;q=0", HAL),
    ("", HAL),
])
def test_accept_is_negotiated_with_q_values(demo, client, accept, expected):
    assert client.get("/users/1", headers={"Accept": accept}).content_type == expected


@pytest.mark.parametrize("accept", ["text/csv", "application/json;q=0, application/hal+json;q=0"])
def test_nothing_acceptable_is_406_listing_the_supported_types(demo, client, accept):
    response = client.get("/users/1", headers={"Accept": accept}, status=406)
    assert response.content_type == HAL
    message = response.json["_embedded"]["fg:errors"][0]["message"]
    for media_type in MEDIA_TYPES:
        assert media_type in message


def test_406_writes_nothing(demo, client):
    client.post_json("/users", {"user_id": "never"}, headers={"Accept": "text/csv"}, status=406)
    users = client.get("/users?user_id=never", headers={"Accept": PLAIN}).json
    assert users == []


# -- conditional requests ----------------------------------------------------------

@pytest.mark.parametrize("media_type", [HAL, PLAIN, HAL_XML, SIREN, HTML])
def test_if_none_match_gives_304_until_the_resource_changes(demo, client, media_type):
    first = client.get("/users/2", headers={"Accept": media_type})
    tag = first.headers["ETag"]
    client.get("/users/2", headers={"Accept": media_type, "If-None-Match": tag}, status=304)
    client.patch_json("/users/2", {"name": "Grace B. Hopper"})
    changed = client.get("/users/2", headers={"Accept": media_type, "If-None-Match": tag}, status=200)
    assert changed.headers["ETag"] != tag


def test_etags_differ_per_media_type(demo, client):
    tags = {client.get("/users/1", headers={"Accept": media_type}).headers["ETag"]
            for media_type in MEDIA_TYPES}
    assert len(tags) == len(MEDIA_TYPES)


def test_linking_a_card_changes_the_users_etag(demo, client):
    before = client.get("/users/5").headers["ETag"]
    client.patch_json("/gift_cards/8", {"user_id": "user005"})
    assert client.get("/users/5").headers["ETag"] != before


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_stale_if_match_is_412_and_changes_nothing(demo, client, method):
    tag = client.get("/products/1").headers["ETag"]
    client.patch_json("/products/1", {"name": "Changed meanwhile"})
    body = json.dumps({"product_id": "gap-jeans-001", "name": "Lost update", "price": "1.00",
                       "eligible_issuer": "Gap"}).encode()
    response = client.request("/products/1", method=method, body=body if method != "DELETE" else b"",
                              headers={"If-Match": tag, "Content-Type": "application/json"},
                              expect_errors=True)
    assert response.status_int == 412
    assert client.get("/products/1").json["name"] == "Changed meanwhile"


def test_current_if_match_from_another_media_type_is_accepted(demo, client):
    tag = client.get("/products/1", headers={"Accept": HAL_XML}).headers["ETag"]
    response = client.patch_json("/products/1", {"name": "Fresh"},
                                 headers={"If-Match": tag, "Accept": PLAIN})
    assert response.json["name"] == "Fresh"


def test_collections_have_etags_too(demo, client):
    tag = client.get("/users").headers["ETag"]
    client.get("/users", headers={"If-None-Match": tag}, status=304)


# -- request bodies ----------------------------------------------------------------

def test_form_bodies_are_read_like_json(demo, client):
    created = client.post("/users", {"user_id": "formuser", "name": "Form User", "email": ""},
                          headers={"Accept": PLAIN}, status=201)
    assert created.json["name"] == "Form User" and created.json["email"] is None


def test_html_forms_can_patch_and_delete_with_method_override(demo, client):
    form = client.get("/users/3", headers={"Accept": HTML}).forms["update"]
    assert form["_method"].value == "PATCH" and form["_csrf"].value
    form["name"] = "Alan M. Turing"
    form.submit(headers={"Accept": PLAIN})
    assert client.get("/users/3", headers={"Accept": PLAIN}).json["name"] == "Alan M. Turing"
    client.post_json("/products", {"product_id": "tmp", "name": "Temp", "price": 1,
                                   "eligible_issuer": "Gap"})
    tmp = client.get("/products?product_id=tmp", headers={"Accept": PLAIN}).json[0]
    client.get(f"/products/{tmp['id']}", headers={"Accept": HTML}).forms["delete"].submit(status=204)
    client.get(f"/products/{tmp['id']}", status=404)


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_method_override_without_the_forms_csrf_token_is_refused(demo, client, token):
    client.get("/users/3", headers={"Accept": HTML})  # the browser has its CSRF cookie
    body = {"_method": "PATCH", "name": "Mallory"}
    if token is not None:
        body["_csrf"] = token
    response = client.post("/users/3", body, headers={"Accept": PLAIN}, status=403)
    assert response.json["errors"][0]["logref"] == "csrf"
    assert client.get("/users/3", headers={"Accept": PLAIN}).json["name"] == "Alan Turing"


@pytest.mark.parametrize("media_type", [HAL, PLAIN, HAL_XML, SIREN, HTML])
def test_errors_come_in_the_negotiated_media_type(demo, client, media_type):
    response = client.get("/users/999", headers={"Accept": media_type}, status=404)
    assert response.content_type == media_type
    document = well_formed(response)
    text = response.text
    assert "999" in text
    if media_type == HAL:
        assert document["_embedded"]["fg:errors"][0]["logref"] == "not_found"


def test_unknown_url_is_404_in_the_negotiated_type(demo, client):
    response = client.get("/nothing/here", headers={"Accept": SIREN}, status=404)
    well_formed(response)
