"""The row plan that builds model instances for compiled selects gives exactly
what peewee's own cursor wrapper gives, on SQLite and on PostgreSQL."""
from __future__ import annotations

from flexigift.db import database
from flexigift.models import GiftCard
from flexigift.resources.views import endpoint_named


def instances_as_data(rows):
    return [(row.__data__, {name: (related.__data__ if related is not None else None)
                            for name, related in row.__rel__.items()}, row._dirty) for row in rows]


def test_compiled_rows_match_peewees_instances(app, json_client):
    json_client.post("/users", {"user_id": "ada"})
    json_client.post("/gift_cards", {"card_id": "linked", "issuer": "Gap", "balance": "12.34",
                                     "user_id": "ada", "metadata": {"a": [1, "b"]}})
    json_client.post("/gift_cards", {"card_id": "alone", "issuer": "Kohls", "balance": 0,
                                     "expiry_date": "2030-01-31"})
    with app.app_context(), database.connection_context():
        for name in ("gift_cards", "transactions", "users", "issuers"):
            endpoint = endpoint_named(name)
            model = endpoint.model
            ids = [row.id for row in model.select(model.id).order_by(model.id)]
            assert ids, name
            compiled = endpoint.rows_where(model.id, ids)
            plain = endpoint.rows(endpoint.select().where(model.id.in_(ids)).order_by(model.id))
            assert instances_as_data(compiled) == instances_as_data(plain)
            assert all(type(row) is model for row in compiled)


def test_a_card_without_a_user_has_no_user_and_keeps_its_issuer(app, json_client):
    json_client.post("/gift_cards", {"card_id": "alone", "issuer": "Kohls", "balance": 5})
    with app.app_context(), database.connection_context():
        card = endpoint_named("gift_cards").rows_where(GiftCard.card_id, ["alone"])[0]
        assert card.user is None and card.user_id is None
        assert card.issuer.name == "Kohls"
        assert card.date_created.tzinfo is None
