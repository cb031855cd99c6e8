"""The HTML browser with authentication on, in Chromium (issue 8): signing in with
a token, forms that carry their CSRF token, a hostile page that cannot act,
and signing out. On SQLite and PostgreSQL.
"""
from __future__ import annotations

import json

import pytest

from browser_support import flexigift_serve, screenshot


@pytest.fixture
def secured_server(database_url):
    with flexigift_serve(database_url, "--auth") as server:
        yield server


def _token(server, role: str, name: str) -> str:
    return server.cli("token", "create", "--role", role, "--name", name).splitlines()[0]


def _user_ids(server, admin: str) -> list[str]:
    status, body = server.api("GET", "/users", token=admin)
    assert status == 200
    return [user["user_id"] for user in json.loads(body)]


def test_a_person_signs_in_with_a_token_uses_the_forms_and_signs_out(secured_server, page, database_url):
    server = secured_server
    admin = _token(server, "admin", "ops")
    checkout = _token(server, "checkout", "till 1")

    response = page.goto(f"{server.url}/users")
    assert response.status == 401
    page.get_by_role("link", name="Sign in").first.click()
    page.fill("input[name=token]", checkout)
    page.locator("form#sign_in button[type=submit]").click()
    page.wait_for_url(f"{server.url}/")
    assert "till 1 (checkout)" in page.locator("header").inner_text()
    backend = database_url.partition(":")[0]
    screenshot(page, f"signed-in-home-{backend}")

    page.goto(f"{server.url}/users")
    form = page.locator("form#create")
    form.locator("input[name=user_id]").fill("browser-user")
    form.locator("button[type=submit]").click()
    assert "browser-user" in page.content()
    assert "browser-user" in _user_ids(server, admin)

    # The same form without its CSRF token is refused, and nothing is written.
    page.goto(f"{server.url}/users")
    page.evaluate("document.querySelector('form#create input[name=_csrf]').remove()")
    form = page.locator("form#create")
    form.locator("input[name=user_id]").fill("no-csrf-user")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 403
    assert "CSRF" in page.content()
    assert "no-csrf-user" not in _user_ids(server, admin)

    page.goto(f"{server.url}/")
    page.locator("form#sign-out button").click()
    page.wait_for_url(f"{server.url}/sign-in")
    assert page.goto(f"{server.url}/users").status == 401


def test_a_hostile_page_cannot_act_through_a_signed_in_browser(secured_server, page):
    server = secured_server
    admin = _token(server, "admin", "ops")
    page.goto(f"{server.url}/sign-in")
    page.fill("input[name=token]", admin)
    page.locator("form#sign_in button[type=submit]").click()
    page.wait_for_url(f"{server.url}/")

    # Another site's page posts a form to the API, as a cross-site request forgery would.
    hostile = f"""<form id="attack" method="post" action="{server.url}/users">
        <input name="user_id" value="forged-by-evil"></form>"""
    page.goto("data:text/html," + hostile)
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.evaluate("document.getElementById('attack').submit()")
    assert posted.value.status in (401, 403)
    assert "forged-by-evil" not in _user_ids(server, admin)


def test_with_auth_off_every_form_still_carries_a_csrf_token(database_url, page):
    with flexigift_serve(database_url) as server:
        page.goto(f"{server.url}/users")
        assert "authentication off" in page.locator("header").inner_text()
        token = page.locator("form#create input[name=_csrf]")
        assert token.count() == 1 and token.get_attribute("value")
        form = page.locator("form#create")
        form.locator("input[name=user_id]").fill("dev-user")
        form.locator("button[type=submit]").click()
        assert "dev-user" in page.content()
        hostile = f"""<form id="attack" method="post" action="{server.url}/users">
            <input name="user_id" value="rebound"></form>"""
        page.goto("data:text/html," + hostile)
        with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
            page.evaluate("document.getElementById('attack').submit()")
        assert posted.value.status == 403
        status, body = server.api("GET", "/users?user_id=rebound")
        assert status == 200 and json.loads(body) == []
