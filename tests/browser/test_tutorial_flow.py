"""The tutorials' flow done by a person with only a browser, from ``GET /``, in
Chromium: an issuer, a user, a gift card linked to the user, a product, the
user's payment options for it, a redemption and its refund, through the HTML
pages and their forms alone (no URL typed after the home page). With
authentication off (the development server) and on (signing in with a token),
on SQLite and PostgreSQL. Screenshots of the home page, a collection, a card and
a redeem form go to the test output directory.
"""
from __future__ import annotations

import json

import pytest

from browser_support import OUTPUT, flexigift_serve, screenshot


@pytest.fixture(params=["auth-off", "auth-on"])
def server_and_mode(request, database_url):
    options = ("--auth",) if request.param == "auth-on" else ()
    with flexigift_serve(database_url, *options) as server:
        yield server, request.param


def follow(page, rel: str) -> None:
    """Click the first link of relation ``fg:<rel>`` on the page, as a person would."""
    page.locator(f"section.links a[rel$='/rels/{rel}']").first.click()
    page.wait_for_load_state()


def fill_and_send(page, form_id: str, **values: str) -> None:
    """Fill in the form ``form_id`` (selects by value, inputs by text) and send it."""
    form = page.locator(f"form#{form_id}")
    for name, value in values.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def heading(page) -> str:
    return page.locator("main h1").inner_text()


def test_the_tutorial_flow_in_a_browser(server_and_mode, page, database_url):
    server, mode = server_and_mode
    backend = database_url.partition(":")[0]
    token = None
    page.goto(f"{server.url}/")
    if mode == "auth-on":
        token = server.cli("token", "create", "--role", "admin", "--name", "tutorial").splitlines()[0]
        page.get_by_role("link", name="Sign in").first.click()
        page.fill("input[name=token]", token)
        with page.expect_navigation():
            page.locator("form#sign_in button[type=submit]").click()
        assert "tutorial (admin)" in page.locator("header").inner_text()
    screenshot(page, f"home-{backend}-{mode}")
    home = page.url

    # An issuer's programme.
    follow(page, "issuers")
    fill_and_send(page, "create", name="Gap", currency_code="USD")
    assert "Gap" in heading(page)

    # A user, as the quick start registers one.
    page.goto(home)
    follow(page, "users")
    fill_and_send(page, "create", user_id="user006", amazon_id="amz3456", name="Jack Johnson",
                  email="jack.johnson@example.com")
    assert "user006" in heading(page)

    # A gift card, linked to the user from the card's side.
    page.goto(home)
    follow(page, "gift_cards")
    fill_and_send(page, "create", card_id="gap-gc-100", issuer="Gap", balance="50.00", user_id="user006")
    assert "gap-gc-100" in heading(page)
    assert page.locator("form#update select[name=status]").input_value() == "active"
    screenshot(page, f"card-{backend}-{mode}")

    # A product the card can pay for.
    page.goto(home)
    follow(page, "products")
    fill_and_send(page, "create", product_id="gap-jeans-001", name="Slim Fit Jeans", price="39.95",
                  eligible_issuer="Gap")
    page.locator("nav.breadcrumbs a", has_text="products").click()  # back up to the collection
    page.wait_for_load_state()
    screenshot(page, f"collection-{backend}-{mode}")
    assert page.locator("table.items tbody tr").count() == 1

    # The user's payment options for the product: a GET form, as the template cannot be followed.
    page.goto(home)
    follow(page, "users")
    page.locator("table.items a[rel=item]", has_text="user006").click()
    fill_and_send(page, "payment_options", product_id="gap-jeans-001")
    assert "product_id=gap-jeans-001" in page.url and "_blank" not in page.url
    assert "gap-gc-100" in page.content()

    # Pay with the card the options offer.
    follow(page, "redeem")
    assert page.locator("form#redeem").count() == 1
    page.locator("form#redeem [name=amount]").fill("39.95")
    page.locator("form#redeem [name=product_id]").fill("gap-jeans-001")
    screenshot(page, f"redeem-form-{backend}-{mode}")
    with page.expect_navigation():
        page.locator("form#redeem button[type=submit]").click()
    assert "/transactions/" in page.url  # 303 to the new ledger entry
    page.reload()  # a reload shows the entry again; it does not pay twice

    # Refund it, all of it (the form's amount left blank).
    with page.expect_navigation():
        page.locator("form#refund button[type=submit]").click()
    assert "/transactions/" in page.url

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = server.api("GET", "/gift_cards?card_id=gap-gc-100", token=token)
    assert status == 200
    (card,) = json.loads(body)
    assert card["balance"] == 50 and card["user_id"] == "user006"
    status, body = server.api("GET", f"/gift_cards/{card['id']}/transactions", token=token)
    kinds = [entry["kind"] for entry in json.loads(body)]
    assert sorted(kinds) == ["issue", "redeem", "refund"], kinds
    assert server.cli("check-ledger").startswith("ledger OK")
    assert headers is not None
    print(f"screenshots in {OUTPUT}")
