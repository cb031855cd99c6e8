"""The fence around what the hot path borrows from peewee: every compiled select
(``query/compiled.py``), the rows it builds (``query/rows.py``), the counts and
the filtered pages give what peewee's own queries give, on SQLite and on
PostgreSQL. ``setup.cfg`` pins peewee to the versions this passes on; with
``FLEXIGIFT_PLAIN_QUERIES=1`` the whole suite runs on plain peewee queries.
"""
from __future__ import annotations

import pytest

from flexigift.db import database
from flexigift.query import compiled
from flexigift.registry import registry_of
from flexigift.resources.views import endpoint_named
from flexigift.services.linking import user_with_card_ids
from money_helpers import kohls_world, redeem

#: Collections as a client pages them: filters, wildcards, orders, zooms, seeks.
PAGES = (
    "/gift_cards?limit=3",
    "/gift_cards?limit=2&order=balance%20desc&zoom=user",
    "/gift_cards?card_id=fence*&order=card_id",
    "/gift_cards?balance:greaterthan=10&order=expiry_date,balance%20desc&limit=2",
    "/gift_cards?limit=2&order=balance&after={card}",
    "/gift_cards?limit=2&order=balance%20desc&before={card}",
    "/users?zoom=gift_cards&order=email%20desc",
    "/users?email=*@example.com&limit=1",
    "/transactions?kind=redeem&zoom=gift_card,product",
    "/transactions?order=amount%20desc&limit=2&offset=1",
    "/products?order=price%20desc",
    "/issuers?name=Kohl*",
)


def instances_as_data(rows) -> list:
    return [(type(row), row.__data__, {name: None if related is None else related.__data__
                                        for name, related in row.__rel__.items()}) for row in rows]


@pytest.fixture
def world(json_client):
    owner = json_client.post("/users", {"user_id": "ada", "email": "ada@example.com"}).json
    card, _ = kohls_world(json_client, user_id=owner["user_id"], card_id="fence-1")
    for number, balance in enumerate((5, 40, 40, 200), 2):
        json_client.post("/gift_cards", {"card_id": f"fence-{number}", "issuer": "Kohls", "balance": balance})
    redeem(json_client, card["id"])
    redeem(json_client, card["id"], amount=10)
    return {"card": card["id"], "user": owner["id"]}


def test_the_compiled_select_of_every_resource_gives_what_peewee_gives(app, world):
    with app.app_context(), database.connection_context():
        endpoints = list(registry_of(app).endpoints.values())
        assert {"gift_cards", "users", "transactions", "products", "issuers"} <= {e.name for e in endpoints}
        for endpoint in endpoints:
            model = endpoint.model
            ids = [row.id for row in model.select(model.id).order_by(model.id)]
            for id in ids:
                plain = endpoint.select().where(model.id == id).first()
                assert instances_as_data([endpoint.lookup(id)]) == instances_as_data([plain]), endpoint.name
            if ids:
                by_peewee = endpoint.rows(endpoint.select().where(model.id.in_(ids)).order_by(model.id))
                assert instances_as_data(endpoint.rows_where(model.id, ids)) == instances_as_data(by_peewee)


def test_a_user_with_its_card_ids_is_the_same_either_way(app, world, monkeypatch):
    with app.app_context(), database.connection_context():
        compiled_user = user_with_card_ids(world["user"])
        monkeypatch.setattr(compiled, "PLAIN_QUERIES", True)
        plain_user = user_with_card_ids(world["user"])
        assert compiled_user.card_ids == plain_user.card_ids == ["fence-1"]
        fields = type(plain_user)._meta.sorted_field_names
        assert ([getattr(compiled_user, name) for name in fields]
                == [getattr(plain_user, name) for name in fields])
        assert user_with_card_ids(10**9) is None


@pytest.mark.parametrize("url", PAGES)
def test_pages_and_totals_are_the_same_on_plain_peewee_queries(client, world, monkeypatch, url):
    url = url.format(**world)
    headers = {"Accept": "application/hal+json"}
    fast = client.get(url, headers=headers)
    monkeypatch.setattr(compiled, "PLAIN_QUERIES", True)
    plain = client.get(url, headers=headers)
    assert fast.status_int == plain.status_int == 200
    assert fast.json == plain.json
    assert fast.headers.get("Link") == plain.headers.get("Link")


def test_whole_collection_totals_are_the_rows_peewee_counts(app, client, world):
    with app.app_context(), database.connection_context():
        expected = {name: endpoint_named(name).model.select().count()
                    for name in ("gift_cards", "users", "transactions", "products", "issuers")}
    for name, count in expected.items():
        response = client.get(f"/{name}", headers={"Accept": "application/hal+json"})
        assert response.headers["X-Total-Count"] == str(count), name
