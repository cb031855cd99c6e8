"""The API root as a client without links in its media type finds it (SPEC 3): ``GET /``
sends its links in an RFC 8288 ``Link`` header, the same links its HAL body has, as each
token may see them, with curied rels written as the URIs they stand for. On SQLite and
PostgreSQL.
"""
from __future__ import annotations

import re

import pytest
import webtest

from auth_support import HAL, ROLES, secured  # noqa: F401 (fixture)
from flexigift.app import create_app
from flexigift.config import Config

LINK = re.compile(r'<([^>]*)>; rel="([^"]*)"; title="((?:[^"\\]|\\.)*)"')
ROOT = "http://localhost:3000"


def header_links(response) -> dict[str, str]:
    """rel → href of a ``Link`` header (which must be nothing but such links)."""
    value = response.headers["Link"]
    found = LINK.findall(value)
    assert ", ".join(f'<{href}>; rel="{rel}"; title="{title}"' for href, rel, title in found) == value
    return {rel: href for href, rel, _ in found}


def body_links(document: dict) -> dict[str, str]:
    """rel → href of a HAL body's links, curies expanded, self left out."""
    [curie] = document["_links"]["curies"]
    links = {}
    for rel, link in document["_links"].items():
        if rel in ("self", "curies"):
            continue
        prefix, _, name = rel.partition(":")
        links[curie["href"].replace("{rel}", name) if prefix == curie["name"] else rel] = link["href"]
    return links


@pytest.mark.parametrize("role", ROLES)
def test_the_roots_link_header_holds_the_links_of_its_body_as_each_token_sees_them(secured, role):  # noqa: F811
    _, _, clients, _ = secured
    client = clients[role]
    plain, hal = client.get("/"), client.get("/", accept=HAL)
    assert plain.status_int == hal.status_int == 200
    assert plain.json["name"] == "Flexigift" and "_links" not in plain.json
    assert header_links(plain) == body_links(hal.json)
    assert header_links(hal) == header_links(plain)  # one header, whatever the media type


def test_the_admins_root_leads_to_every_collection(secured):  # noqa: F811
    _, _, clients, _ = secured
    links = header_links(clients["admin"].get("/"))
    for name in ("users", "gift_cards", "products", "issuers", "transactions", "holds", "orders"):
        assert links[f"{ROOT}/rels/{name}"] == f"{ROOT}/{name}"
    assert links["service-desc"] == f"{ROOT}/openapi.json"
    for href in links.values():  # and each one answers
        assert clients["admin"].get(href.removeprefix(ROOT)).status_int == 200, href


def test_a_root_too_long_for_a_header_keeps_its_links_in_the_body(database_url):
    app = create_app(Config(database_url=database_url, auth=False,
                            public_url="https://api.example.com/" + "x" * 400))
    try:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost:3000"})
        response = client.get("/", headers={"Accept": HAL}, status=200)
        assert "Link" not in response.headers
        assert response.json["_links"]["fg:users"]["href"].endswith("/users")
    finally:
        app.extensions["flexigift_db"].close_all()
