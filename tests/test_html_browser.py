"""The HTML API browser as a person uses it, through its own pages and forms as
served (WebTest fills them in as a browser would): forms that work with their
defaults, errors beside their fields, Post/Redirect/Get, GET forms for templated
links, compact tables with a pager, breadcrumbs and the other media types one
click away. The same flows run in a real Chromium in tests/browser/."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html
import pytest

from flexigift.demo import load_demo_data
from hypermedia import HAL, HAL_FORMS, HAL_XML, PLAIN, SIREN

HTML = "text/html"
ORIGIN = "http://localhost:3000"
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo_data()
    return app


def browse(client, path: str):
    return client.get(path, headers=BROWSER)


def submit(form, **values):
    for name, value in values.items():
        form[name] = value
    return form.submit(headers={**BROWSER, "Origin": ORIGIN}, expect_errors=True,
                       extra_environ={"HTTP_ORIGIN": ORIGIN})


def local(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def tree(response):
    return lxml.html.document_fromstring(response.body)


# -- forms as served --------------------------------------------------------------

def test_a_gift_card_is_created_from_its_form_as_served(demo, client):
    form = browse(client, "/gift_cards").forms["create"]
    # The selects start on their defaults, not blank.
    assert form["status"].value == "active"
    assert form["single_use"].value == "false"
    assert form["rechargeable"].value == "true"
    created = submit(form, card_id="html-card-1", issuer="Gap", balance="25.50")
    assert created.status_int == 303  # Post/Redirect/Get
    card = browse(client, local(created.headers["Location"]))
    assert card.status_int == 200 and "html-card-1" in card.text
    plain = client.get(local(created.headers["Location"]), headers={"Accept": PLAIN}).json
    assert (plain["balance"], plain["status"], plain["single_use"], plain["rechargeable"]) == (
        25.5, "active", False, True)


def test_a_refused_form_comes_back_filled_in_with_each_error_beside_its_field(demo, client):
    before = client.get("/gift_cards", headers={"Accept": PLAIN}).headers["X-Total-Count"]
    form = browse(client, "/gift_cards").forms["create"]
    refused = submit(form, card_id="html-card-2", issuer="Gap", balance="12.345",
                     recipient_email="not-an-address")
    assert refused.status_int == 422
    page = tree(refused)
    retry = refused.forms["retry"]
    assert retry["card_id"].value == "html-card-2" and retry["balance"].value == "12.345"
    errors = {element.getprevious().getprevious().get("name") if element.getprevious().tag == "small"
              else element.getprevious().get("name"): element.text_content()
              for element in page.cssselect(".field-error")}
    assert set(errors) == {"balance", "recipient_email"}, errors
    # Each field is named once, in the list as in the form.
    for item in page.cssselect("ul.errors li"):
        field = item.cssselect("code.field")[0].text_content()
        assert field not in item.cssselect(".message")[0].text_content()
    assert client.get("/gift_cards", headers={"Accept": PLAIN}).headers["X-Total-Count"] == before
    # Corrected and sent again from the page of the refusal, it goes through.
    accepted = submit(refused.forms["retry"], balance="12.34", recipient_email="")
    assert accepted.status_int == 303


def test_changing_and_deleting_through_forms_redirect_to_what_to_see_next(demo, client):
    user = browse(client, "/users/2")
    changed = submit(user.forms["update"], name="Grace from a form")
    assert changed.status_int == 303 and local(changed.headers["Location"]) == "/users/2"
    assert "Grace from a form" in browse(client, "/users/2").text
    created = submit(browse(client, "/users").forms["create"], user_id="to-delete")
    path = local(created.headers["Location"])
    delete = browse(client, path).forms["delete"]
    assert delete["_confirm"].value is None or delete["_confirm"].checked is False
    assert 'required' in tree(browse(client, path)).cssselect("form#delete input[name=_confirm]")[0].attrib
    delete["_confirm"].checked = True
    gone = delete.submit(headers={**BROWSER}, extra_environ={"HTTP_ORIGIN": ORIGIN}, expect_errors=True)
    assert gone.status_int == 303 and local(gone.headers["Location"]) == "/users"
    client.get(path, headers={"Accept": PLAIN}, status=404)


def test_a_redemption_from_its_form_redirects_to_its_ledger_entry(demo, client):
    client.post_json("/products", {"product_id": "html-socks", "name": "Socks", "price": "3.00",
                                   "eligible_issuer": "Hanes"}, status=201)
    card = browse(client, "/gift_cards/8")
    done = submit(card.forms["redeem"], amount="3.00", product_id="html-socks")
    assert done.status_int == 303
    entry = client.get(local(done.headers["Location"]), headers={"Accept": PLAIN}).json
    assert entry["kind"] == "redeem" and entry["amount"] == -3
    # Reloading the page after the redirect is a GET: nothing is posted again.
    browse(client, local(done.headers["Location"]))
    assert client.get("/gift_cards/8", headers={"Accept": PLAIN}).json["balance"] == 197


@pytest.mark.parametrize("accept", [PLAIN, HAL, SIREN, HAL_XML, HAL_FORMS])
def test_programs_posting_forms_get_the_answer_not_a_redirect(demo, client, accept):
    created = client.post("/users", {"user_id": f"form-{accept.rsplit('/', 1)[1][:8]}"},
                          headers={"Accept": accept}, status=201)
    assert created.headers["Location"]


# -- templated links, collections, navigation ------------------------------------------

def test_payment_options_are_a_get_form_that_works(demo, client):
    user = browse(client, "/users/5")
    form = user.forms["payment_options"]
    assert form.method.upper() == "GET"
    answer = submit(form, product_id="gap-jeans-001")
    # A browser sends the form's every field; the server drops the blank ones with a 303
    # so the address shows the query as written.
    assert answer.status_int == 303
    assert local(answer.headers["Location"]) == "/users/5/payment_options?product_id=gap-jeans-001"
    shown = browse(client, local(answer.headers["Location"]))
    assert shown.status_int == 200 and "Payment options" in shown.text


def test_a_collection_is_a_compact_table_with_a_pager_and_a_search_form(demo, client):
    page = browse(client, "/gift_cards?limit=3")
    document = tree(page)
    headings = [th.text_content() for th in document.cssselect("table.items thead th")]
    assert len(headings) <= 7 and headings[:3] == ["item", "card_id", "user_id"]
    pager = {a.get("rel") for a in document.cssselect("nav.pager a")}
    assert {"next", "last", "first"} <= pager
    search = page.forms["search"]
    assert search.method.upper() == "GET"
    assert {"card_id", "status", "zoom", "order", "limit"} <= set(search.fields)
    found = submit(search, card_id="gap*", limit="50")
    assert found.status_int == 303
    assert local(found.headers["Location"]) == "/gift_cards?card_id=gap%2A&limit=50"
    rows = tree(browse(client, local(found.headers["Location"]))).cssselect("table.items tbody tr")
    assert rows and all(row.cssselect("td")[1].text_content().lower().startswith("gap") for row in rows)


def test_every_page_has_breadcrumbs_and_the_other_media_types_one_click_away(demo, client):
    document = tree(browse(client, "/users/5/gift_cards"))
    crumbs = [a.text_content() for a in document.cssselect("nav.breadcrumbs a")]
    assert crumbs == ["Home", "users", "5"]
    switcher = {a.text_content(): a.get("href") for a in document.cssselect("nav.formats a")}
    expected = {"HAL": HAL, "HAL+XML": HAL_XML, "Siren": SIREN, "JSON": PLAIN, "HAL-FORMS": HAL_FORMS}
    assert set(switcher) == set(expected)
    for label, media_type in expected.items():
        other = client.get(local(switcher[label]))  # a browser's Accept does not matter
        assert other.content_type == media_type, label


def test_an_unknown_format_is_406_naming_the_choices(demo, client):
    refused = client.get("/users?format=yaml", headers={"Accept": PLAIN}, status=406)
    assert "format" in refused.text and "siren" in refused.text


def test_relation_pages_read_as_documentation(demo, client):
    document = tree(browse(client, "/rels/gift_card"))
    tables = document.cssselect("table.records")
    assert tables, "the fields of each write are a table"
    headings = [th.text_content() for th in tables[0].cssselect("th")]
    assert {"name", "type", "title", "required"} <= set(headings)


def test_pages_and_their_stylesheet_load_nothing_from_elsewhere(demo, client):
    for path in ("/", "/users", "/gift_cards/8", "/rels/gift_card", "/users/5/payment_options?product_id=x"):
        response = client.get(path, headers=BROWSER, expect_errors=True)
        document = tree(response)
        for element in document.iter():
            for attribute in ("src", "href", "action"):
                value = element.get(attribute)
                if value and re.match(r"(?i)^(https?:)?//", value):
                    assert value.startswith(ORIGIN), (path, value)
        assert not document.cssselect("script")
    css = client.get("/static/flexigift.css")
    assert css.content_type == "text/css"
    assert "url(" not in css.text and "@import" not in css.text
