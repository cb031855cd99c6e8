"""What a client can send, the server can bear: bodies sent in chunks, over-long URLs and
headers, and a Link header that stays small whatever the query.

Over real sockets, against each server README.rst recommends (``flexigift serve``,
granian, gunicorn and waitress, started once per module): these run on SQLite only,
because what they check is how a request reaches the app through each server, which no
database changes (the refusals come before any query; "nothing stored" is read back over
HTTP). Through WebTest, on both databases: the app's own limits (414, 431), in the
negotiated error format, and hostile queries that are still answered.
"""
from __future__ import annotations

import json

import pytest
import webtest

from api_helpers import HAL, PLAIN, database_snapshot, errors_of
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.http.limits import MAX_HEADER_BYTES, MAX_URL_BYTES
from flexigift.query.pagination import MAX_LINK_HEADER
from flexigift.query.params import MAX_CHILD_FILTERS
from servers import RECOMMENDED, call, chunked, exchange, recommended_server

LIMIT = Config().max_body_bytes
SIREN = "application/vnd.siren+json"
HTML = "text/html"
JACK = {"user_id": "jack", "name": "Jack", "email": "jack@example.com"}


# -- over real sockets, on every recommended server ------------------------------------
@pytest.fixture(scope="module", params=RECOMMENDED)
def served(request, tmp_path_factory):
    """A recommended server on a database of its own holding Jack; (name, base URL, Jack's path)."""
    database = f"sqlite:///{tmp_path_factory.mktemp(request.param) / 'limits.db'}"
    with recommended_server(request.param, database) as base:
        status, body = call("POST", f"{base}/users", JACK)
        assert status == 201, body
        yield request.param, base, f"/users/{json.loads(body)['id']}"


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Accept: {PLAIN}", "Connection: close",
             *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _send_chunked(base: str, method: str, path: str, body: bytes, size: int = 64 * 1024):
    head = _head(method, path, "Content-Type: application/json", "Transfer-Encoding: chunked")
    return exchange(base, head, chunked(body, size))


def _jack(base: str, path: str) -> dict:
    status, body = call("GET", base + path)
    assert status == 200, body
    return json.loads(body)


def _error_logref(response) -> str:
    assert response.getheader("Content-Type", "").startswith(PLAIN), response.getheader("Content-Type")
    body = json.loads(response.body)
    assert body["total"] == len(body["errors"]) == 1, body
    return body["errors"][0]["logref"]


def test_a_chunked_body_past_the_limit_is_refused_whole_and_nothing_is_stored(served):
    """Valid JSON within the limit, then blanks past it: read up to the limit alone, it
    would pass for a whole body (which gunicorn and granian once let through)."""
    name, base, jack = served
    before = _jack(base, jack)
    body = b'{"name": "Cut short"}' + b" " * LIMIT
    response = _send_chunked(base, "PATCH", jack, body)
    assert response.status == 413, (name, response.status, response.body[:300])
    assert _error_logref(response) == "payload_too_large"
    assert _jack(base, jack) == before

    body = json.dumps({**JACK, "user_id": "big", "email": "big@example.com", "name": "x" * LIMIT}).encode()
    response = _send_chunked(base, "POST", "/users", body, size=1000)
    assert response.status == 413, (name, response.status, response.body[:300])
    assert call("GET", f"{base}/users?user_id=big")[1] == b"[]"


@pytest.mark.parametrize("size", [1, 7, 64 * 1024])
def test_a_chunked_body_up_to_the_limit_is_read_whole(served, size):
    name, base, jack = served
    content = json.dumps({"name": f"Chunks of {size}"}).encode()
    body = content + b" " * (LIMIT - len(content)) if size > 1 else content  # 1-byte chunks: short
    response = _send_chunked(base, "PATCH", jack, body, size)
    assert response.status == 200, (name, response.status, response.body[:300])
    assert _jack(base, jack)["name"] == f"Chunks of {size}"

    user = json.dumps({**JACK, "user_id": f"chunked{size}", "email": f"c{size}@example.com"}).encode()
    response = _send_chunked(base, "POST", "/users", user, size)
    assert response.status == 201, (name, response.status, response.body[:300])
    assert f'"chunked{size}"'.encode() in call("GET", f"{base}/users?user_id=chunked{size}")[1]


@pytest.mark.parametrize("path", ["/users?user_id=" + "a" * 100_000, "/" + "a" * 100_000,
                                  "/users?user_id=" + "a" * (MAX_URL_BYTES + 1)])
def test_an_over_long_url_is_414(served, path):
    """Past the app's 8 KiB, granian and waitress hand the URL to the app, which answers in
    the API's format; gunicorn (past 4 KiB) and granian (past its own buffer) answer
    their own 414 before the app sees the request."""
    name, base, _ = served
    response = exchange(base, _head("GET", path))
    assert response.status == 414, (name, response.status, response.body[:300])
    if response.getheader("Content-Type", "").startswith(PLAIN):
        assert _error_logref(response) == "uri_too_long"
    else:
        assert name == "gunicorn" or (name in ("serve", "granian") and len(path) > 50_000), name


@pytest.mark.parametrize("header", ["X-Anything", "Authorization", "If-None-Match", "Accept-Language",
                                    "Cookie"])
@pytest.mark.parametrize("length", [MAX_HEADER_BYTES + 1, 100_000])
def test_an_over_long_header_is_431(served, header, length):
    name, base, jack = served
    value = "Bearer " + "a" * length if header == "Authorization" else "a" * length
    response = exchange(base, _head("GET", jack, f"{header}: {value}"))
    assert response.status == 431, (name, response.status, response.body[:300])
    if name != "gunicorn":  # gunicorn refuses a header over 8190 bytes itself, in HTML
        assert _error_logref(response) == "header_fields_too_large"


# -- through WebTest, on both databases -------------------------------------------------
@pytest.mark.parametrize("accept", [PLAIN, HAL, SIREN, HTML])
@pytest.mark.parametrize("url", ["/" + "a" * 100_000, "/users?name=" + "a" * 100_000,
                                 "/users?" + "&".join(["zoom=gift_cards"] * 600)])
def test_the_app_answers_an_over_long_url_with_414_in_the_negotiated_format(client, accept, url):
    response = client.get(url, headers={"Accept": accept}, expect_errors=True)
    assert response.status_int == 414
    assert response.content_type == accept
    assert "longer than the limit" in response.text and "aaaaaaaaaa" not in response.text
    if accept in (PLAIN, HAL):
        assert [error["logref"] for error in errors_of(response)] == ["uri_too_long"]


def test_a_url_just_under_the_limit_is_answered(client):
    query = "name=" + "a" * (MAX_URL_BYTES - len("/users?name="))
    response = client.get(f"/users?{query}", headers={"Accept": PLAIN})
    assert response.json == []


#: Headers the app reads (each somewhere else), and one it does not.
HEADERS = ["Authorization", "If-None-Match", "If-Match", "Idempotency-Key", "Accept-Language", "Cookie",
           "Origin", "X-Forwarded-For", "X-Http-Method-Override", "User-Agent", "X-Anything"]


@pytest.fixture
def guarded(database_url):
    """The app with authentication on, as it is served."""
    application = create_app(Config(database_url=database_url, auth=True))
    yield webtest.TestApp(application, extra_environ={"HTTP_HOST": "localhost:3000"})
    application.extensions["flexigift_db"].close_all()


@pytest.mark.parametrize("accept", [PLAIN, HAL])
def test_an_over_long_header_value_is_431_and_changes_nothing(app, client, guarded, accept):
    before = database_snapshot(app)
    for name in HEADERS:
        for served_by in (client, guarded):
            value = "a" * (MAX_HEADER_BYTES + 1)
            response = served_by.post("/users", json.dumps(JACK), expect_errors=True,
                                      headers={"Accept": accept, "Content-Type": PLAIN, name: value})
            assert response.status_int == 431, (name, response.status)
            assert response.content_type == accept
            assert [error["logref"] for error in errors_of(response)] == ["header_fields_too_large"]
            assert name.lower() in response.text.lower()
    assert database_snapshot(app) == before


def test_header_values_just_under_the_limit_never_fail_the_server(client, guarded):
    """Each header at the limit gets an answer about the request itself: a 4xx where the
    value means nothing (an unknown token is a 401), never a 500."""
    value = "a" * MAX_HEADER_BYTES
    for name in HEADERS:
        for served_by in (client, guarded):
            for method in ("GET", "POST", "PATCH"):
                path = "/users" if method != "PATCH" else "/users/1"
                body = json.dumps(JACK).encode() if method != "GET" else b""
                header = f"Bearer {value[7:]}" if name == "Authorization" else value
                response = served_by.request(path, method=method, body=body, expect_errors=True,
                                             headers={"Accept": PLAIN, "Content-Type": PLAIN, name: header})
                assert response.status_int < 500, (name, method, response.status, response.text[:200])
                errors_of(response) if response.status_int >= 400 else None


def test_many_headers_together_past_the_limit_are_431(client):
    headers = {f"X-Part-{number}": "a" * 4000 for number in range(10)}
    response = client.get("/users", headers={"Accept": PLAIN, **headers}, expect_errors=True)
    assert response.status_int == 431
    assert "headers together" in errors_of(response)[0]["message"]


def _filled(make, separator: str = "&", length: int = MAX_URL_BYTES - 200) -> str:
    """As many of ``make(n)`` as fit in ``length`` characters: a query the URL limit still takes."""
    parts: list[str] = []
    while len(separator.join([*parts, make(len(parts))])) < length:
        parts.append(make(len(parts)))
    return separator.join(parts)


HOSTILE_QUERIES = {
    "hundreds of filters": _filled(lambda n: f"name:not=n{n}"),
    "hundreds of :in values": "date_created:in=" + _filled(lambda n: f"2026-01-{n % 28 + 1:02d}", ","),
    "zoomed filters, and hundreds of values": "zoom=gift_cards&" + "&".join(
        f"gift_cards:card_id:in={_filled(lambda n: f'c{n}', ',', 900)}" for _ in range(MAX_CHILD_FILTERS)),
    "hundreds of fields": "fields=" + _filled(lambda n: "name", ","),
    "hundreds of zooms": "zoom=" + _filled(lambda n: "gift_cards", ","),
    "one long value": "name:not=" + "é" * 1000,
    "commas to escape": "user_id:in=" + ",".join("u" * 3 for _ in range(1800)),
}


@pytest.mark.parametrize("accept", [PLAIN, HAL])
@pytest.mark.parametrize("query", list(HOSTILE_QUERIES))
def test_a_hostile_query_is_answered_with_a_small_link_header(client, json_client, accept, query):
    for number in range(3):
        json_client.post("/users", {**JACK, "user_id": f"u{number}", "email": f"u{number}@example.com"})
    for path in ("/users", "/users?limit=1&after=1&"):
        url = f"{path}{'&' if '?' in path else '?'}{HOSTILE_QUERIES[query]}".replace("é", "%C3%A9")
        response = client.get(url, headers={"Accept": accept})
        assert response.status_int == 200
        assert len(response.headers.get("Link", "")) <= MAX_LINK_HEADER < 8 * 1024
        if accept == HAL:  # the links travel in the body still
            assert {"first", "self"} <= set(response.json["_links"]), sorted(response.json["_links"])


@pytest.mark.parametrize("collection, child", [("users", "gift_cards"), ("gift_cards", "user")])
def test_more_filters_on_zoomed_children_than_the_limit_are_400(client, collection, child):
    """Each is a subquery, which PostgreSQL plans in a time growing steeply with their number."""
    field = "card_id" if child == "gift_cards" else "name"
    query = "&".join(f"{child}:{field}:not=x{n}" for n in range(MAX_CHILD_FILTERS + 1))
    response = client.get(f"/{collection}?zoom={child}&{query}", headers={"Accept": PLAIN}, expect_errors=True)
    assert response.status_int == 400
    assert errors_of(response)[0]["logref"] == "too_many_filters"
    assert f"{child}:{field}:in=" in errors_of(response)[0]["message"]
    allowed = "&".join(f"{child}:{field}:not=x{n}" for n in range(MAX_CHILD_FILTERS))
    assert client.get(f"/{collection}?zoom={child}&{allowed}", headers={"Accept": PLAIN}).json == []


def test_an_ordinary_query_keeps_its_paging_links_in_the_link_header(client, json_client):
    for number in range(3):
        json_client.post("/users", {**JACK, "user_id": f"u{number}", "email": f"u{number}@example.com"})
    response = client.get("/users?limit=1&user_id:in=u0,u1,u2&zoom=gift_cards", headers={"Accept": PLAIN})
    assert [rel in response.headers["Link"] for rel in ('"first"', '"next"', '"last"')] == [True] * 3
