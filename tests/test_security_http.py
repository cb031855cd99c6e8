"""The HTTP side of security (issue 8): 401s, the Host check and public URL,
foreign origins, CORS, the HTML browser's sign-in cookie and CSRF tokens,
protective headers, keyed ETags and rate limits. On SQLite and PostgreSQL.
"""
from __future__ import annotations

import re

import pytest
import webtest

import representations
from auth_support import (HAL, HOST, PLAIN, ROLES, TokenClient, auth_app, build_world, close,  # noqa: F401
                          make_token, secured)
from flexigift.app import create_app
from flexigift.config import Config, Limit
from representations import Renderer

A, I, C, R = ROLES
HTML = "text/html"


# -- 401 ---------------------------------------------------------------------------

@pytest.mark.parametrize("header,error", [
    (None, None), ("Bearer fg_unknown_but_well_formed_token_123", "invalid_token"),
    ("Bearer ", "invalid_request"), ("Basic dXNlcjpwYXNz", "invalid_request"), ("Bearer", "invalid_request"),
])
@pytest.mark.parametrize("accept", [HAL, PLAIN, "application/vnd.siren+json", "application/hal+xml", HTML])
def test_a_missing_or_bad_token_is_401_with_www_authenticate(secured, header, error, accept):  # noqa: F811
    app, *_ = secured
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    headers = {"Accept": accept}
    if header is not None:
        headers["Authorization"] = header
    response = client.get("/users", headers=headers, status=401)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="Flexigift"')
    assert (f'error="{error}"' in challenge) if error else "error=" not in challenge
    assert response.content_type == accept
    if accept == HAL:
        entry = response.json["_embedded"]["fg:errors"][0]
        assert entry["logref"] in ("unauthorized", "invalid_token") and entry["field"] == "Authorization"
        assert response.json["_links"]["fg:sign_in"]["href"].endswith("/sign-in")
    if accept == HTML:
        assert "/sign-in" in response.text


def test_a_revoked_token_is_refused_at_once(secured):  # noqa: F811
    app, _, _, _ = secured
    secret = make_token(app, "readonly", name="short-lived")
    client = TokenClient(app, secret)
    client.get("/users", status=200)
    from auth_support import revoke_token
    revoke_token(app, "short-lived")
    assert client.get("/users", status=401).json["errors"][0]["logref"] == "invalid_token"


# -- Host, public URL, origins -------------------------------------------------------

def test_a_foreign_host_is_400_and_never_in_a_link(database_url):
    app = create_app(Config(database_url=database_url, auth=False))
    client = webtest.TestApp(app)
    for host in ("evil.example", "evil.example:3000", "localhost.evil.example", ""):
        response = client.get("/", headers={"Host": host, "Accept": HAL}, status=400)
        assert response.json["_embedded"]["fg:errors"][0]["logref"] == "bad_host"
        assert "evil.example/" not in response.text and "curies" not in response.json.get("_links", {})
    for host in ("localhost", "localhost:3000", "127.0.0.1:3000", "[::1]:3000", "LOCALHOST"):
        client.get("/", headers={"Host": host}, status=200)
    close(app)


def test_allowed_hosts_and_the_public_url_decide_every_link(database_url):
    app = create_app(Config(database_url=database_url, auth=False, allowed_hosts=(".example.com",),
                            public_url="https://api.example.com/gifts/"))
    client = webtest.TestApp(app)
    response = client.get("/", headers={"Host": "internal.example.com:8080", "Accept": HAL}, status=200)
    hrefs = re.findall(r'"href":"([^"]+)"', response.text)
    assert hrefs and all(href.startswith("https://api.example.com/gifts/") for href in hrefs)
    created = client.post_json("/users", {"user_id": "u1"}, headers={"Host": "example.com"}, status=201)
    assert created.headers["Location"] == "https://api.example.com/gifts/users/1"
    client.get("/", headers={"Host": "example.org"}, status=400)
    close(app)


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:3001",
                                    "https://localhost:3000"])
def test_a_write_from_a_foreign_origin_is_refused(database_url, origin):
    app = create_app(Config(database_url=database_url, auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    response = client.post("/users", {"user_id": "victim"}, headers={"Origin": origin, "Accept": PLAIN},
                           status=403)
    assert response.json["errors"][0]["logref"] == "cross_site"
    client.post("/users", {"user_id": "victim"}, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    assert client.get("/users", headers={"Accept": PLAIN}).json == []
    client.get("/users", headers={"Origin": origin}, status=200)  # reading is the browser's business
    close(app)


def test_with_auth_off_a_browsers_form_needs_the_pages_csrf_token(database_url):
    app = create_app(Config(database_url=database_url, auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    same_origin = {"Origin": "http://localhost:3000", "Accept": PLAIN}
    client.post("/users", {"user_id": "nope"}, headers=same_origin, status=403)
    form = client.get("/users", headers={"Accept": HTML}).forms["create"]
    form["user_id"] = "via-form"
    form.submit(headers=same_origin, status=201)
    client.post_json("/users", {"user_id": "curl"}, headers={"Accept": PLAIN}, status=201)  # no Origin
    assert [user["user_id"] for user in client.get("/users", headers={"Accept": PLAIN}).json] == [
        "via-form", "curl"]
    close(app)


# -- CORS --------------------------------------------------------------------------

def test_cors_answers_configured_origins_only(database_url):
    app = create_app(Config(database_url=database_url, auth=True,
                            cors_origins=("https://hal-explorer.example",)))
    secret = make_token(app, "admin")
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    preflight = {"Origin": "https://hal-explorer.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    answer = client.options("/users", headers=preflight, status=204)
    assert answer.headers["Access-Control-Allow-Origin"] == "https://hal-explorer.example"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    client.options("/users", headers={**preflight, "Origin": "https://evil.example"}, status=403)
    bearer = {"Authorization": f"Bearer {secret}", "Origin": "https://hal-explorer.example"}
    created = client.post_json("/users", {"user_id": "cors"}, headers=bearer, status=201)
    exposed = created.headers["Access-Control-Expose-Headers"]
    for name in ("ETag", "Link", "Location", "X-Total-Count", "Retry-After"):
        assert name in exposed
    assert "Origin" in created.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in created.headers
    plain = client.get("/users", headers={"Authorization": f"Bearer {secret}"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    close(app)


# -- the HTML browser: sign-in cookie and CSRF ------------------------------------------

def test_signing_in_keeps_the_token_in_a_strict_httponly_cookie(secured):  # noqa: F811
    app, world, _, secrets = secured
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    assert "/sign-in" in browser.get("/", headers={"Accept": HTML}, status=401).text
    form = browser.get("/sign-in", headers={"Accept": HTML}).forms["sign_in"]
    form["token"] = secrets[C]
    signed_in = form.submit(headers={"Origin": "http://localhost:3000"}, status=303)
    cookie = next(value for name, value in signed_in.headers.items()
                  if name == "Set-Cookie" and value.startswith("fg_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    page = browser.get(signed_in.headers["Location"], headers={"Accept": HTML}, status=200)
    assert "checkout (checkout)" in page.text and "Sign out" in page.text
    card = browser.get(f"/gift_cards/{world['kohls_card']}", headers={"Accept": HTML}, status=200)
    assert "kohls-gc-001" not in card.text
    # A cookie never authenticates a write that is not from our own forms.
    browser.post_json(f"/users/{world['user']}", {"name": "x"}, headers={"X-HTTP-Method-Override": "PATCH"},
                      status=403)
    browser.post("/users", {"user_id": "forged"}, status=403)
    form = browser.get("/users", headers={"Accept": HTML}).forms["create"]
    form["user_id"] = "from-the-form"
    form.submit(headers={"Origin": "http://localhost:3000"}, status=201)
    out = browser.get("/users", headers={"Accept": HTML}).forms["sign-out"]
    assert out.action.endswith("/sign-out")
    out.submit(headers={"Origin": "http://localhost:3000"}, status=303)
    browser.get("/users", headers={"Accept": HTML}, status=401)


def test_a_bad_token_at_sign_in_is_401_and_counted(secured):  # noqa: F811
    app, *_ = secured
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    form = browser.get("/sign-in", headers={"Accept": HTML}).forms["sign_in"]
    form["token"] = "fg_not-a-real-token-at-all"
    response = form.submit(status=401)
    assert "fg_session" not in response.headers.get("Set-Cookie", "")


# -- protective headers ----------------------------------------------------------

def test_protective_headers(secured):  # noqa: F811
    app, world, clients, _ = secured
    json_answer = clients[R].get("/users", status=200)
    assert json_answer.headers["X-Content-Type-Options"] == "nosniff"
    assert json_answer.headers["Cache-Control"] == "private"
    assert "Content-Security-Policy" not in json_answer.headers
    page = clients[R].get("/users", accept=HTML, status=200)
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy and "'unsafe-inline'" not in policy
    assert "<style" not in page.text and "<script" not in page.text
    error = clients["none"].get("/users", status=401)
    assert error.headers["X-Content-Type-Options"] == "nosniff"
    css = clients["none"].get("/static/flexigift.css", status=200)
    assert css.content_type == "text/css"


# -- ETags ---------------------------------------------------------------------------

class _Extra(Renderer):
    media_type = "application/x-flexigift-test"

    def render(self, resource, context=None) -> bytes:
        return b"{}"


def test_etags_are_keyed_by_media_type_not_by_the_renderers_position(database_url):
    app = create_app(Config(database_url=database_url, auth=False))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    client.post_json("/users", {"user_id": "u"})
    before = {media: client.get("/users/1", headers={"Accept": media}).headers["ETag"]
              for media in (HAL, PLAIN, HTML)}
    representations.RENDERERS.insert(0, _Extra())
    try:
        after = {media: client.get("/users/1", headers={"Accept": media}).headers["ETag"]
                 for media in (HAL, PLAIN, HTML)}
    finally:
        representations.RENDERERS.pop(0)
    assert after[HAL] == before[HAL] and after[PLAIN] == before[PLAIN]
    close(app)


def test_etags_are_keyed_with_the_servers_secret(database_url):
    tags = []
    for key in ("one secret", "another secret"):
        app = create_app(Config(database_url=database_url, auth=False, secret_key=key))
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
        if not tags:
            client.post_json("/users", {"user_id": "u"})
        body = client.get("/users/1", headers={"Accept": PLAIN})
        tags.append((body.body, body.headers["ETag"]))
        close(app)
    assert tags[0][0] == tags[1][0] and tags[0][1] != tags[1][1]


# -- rate limits -----------------------------------------------------------------------

def test_failed_look_ups_are_stopped_by_429_within_the_budget(database_url):
    app = auth_app(database_url, lookup_failures=Limit(3, 600))
    checkout = TokenClient(app, make_token(app, "checkout"))
    admin = TokenClient(app, make_token(app, "admin"))
    admin.post("/gift_cards", {"card_id": "real-code-42", "issuer": "Kohls", "balance": 5}, status=201)
    for guess in range(3):
        checkout.post("/card_lookup", {"card_id": f"guess-{guess}"}, status=404)
    limited = checkout.post("/card_lookup", {"card_id": "real-code-42"}, status=429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 600
    assert limited.json["errors"][0]["logref"] == "rate_limited"
    # The same address with another token is stopped too; the token from another address too.
    other = TokenClient(app, make_token(app, "checkout", name="second till"))
    other.post("/card_lookup", {"card_id": "real-code-42"}, status=429)
    close(app)


def test_failed_links_by_code_count_as_failed_look_ups(database_url):
    app = auth_app(database_url, lookup_failures=Limit(2, 600))
    checkout = TokenClient(app, make_token(app, "checkout"))
    checkout.post("/users", {"user_id": "u"}, status=201)
    for guess in range(2):
        checkout.patch("/users/1", {"gift_cards": [f"guess-{guess}"]}, status=422)
    checkout.post("/card_lookup", {"card_id": "anything"}, status=429)
    close(app)


def test_failed_authentications_are_stopped_by_429(database_url):
    app = auth_app(database_url, auth_failures=Limit(5, 600))
    bad = TokenClient(app, "fg_guessed-token-guessed-token")
    for _ in range(5):
        bad.get("/", status=401)
    assert "Retry-After" in bad.get("/", status=429).headers
    good = TokenClient(app, make_token(app, "readonly"))
    good.get("/", status=200)  # a valid token (256 random bits) is not locked out
    close(app)
