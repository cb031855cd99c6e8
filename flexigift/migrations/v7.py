"""Version 7: authorization holds and orders paid by several cards. Frozen as shipped.

- ``order``: what an order asked for (reference, amount, currency, mode, product).
- ``hold``: an amount reserved on a card until a deadline, its captured part and status.
- ``transaction.hold`` and ``transaction.order``: the hold a redemption captures and
  the order it paid.
- ``idempotency_record.resource_kind`` and ``resource_id``: the hold or order a
  replayed request answers with.
"""
from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from ..db import database
from ..models import utcnow
from .v1 import GiftCard, Product


class Order(peewee.Model):
    id = peewee.AutoField()
    order_reference = peewee.CharField(max_length=100, index=True)
    amount = peewee.BigIntegerField()
    currency_code = peewee.CharField(max_length=3)
    mode = peewee.CharField(max_length=10)
    product = peewee.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    idempotency_key = peewee.CharField(max_length=255, null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)

    class Meta:
        database = database
        table_name = "order"


class Hold(peewee.Model):
    id = peewee.AutoField()
    gift_card = peewee.ForeignKeyField(GiftCard, on_delete="RESTRICT")
    amount = peewee.BigIntegerField()
    captured = peewee.BigIntegerField(default=0)
    status = peewee.CharField(max_length=10, default="active")
    order_reference = peewee.CharField(max_length=100, null=True, index=True)
    order = peewee.ForeignKeyField(Order, null=True, on_delete="RESTRICT")
    product = peewee.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    deadline = peewee.DateTimeField()
    idempotency_key = peewee.CharField(max_length=255, null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)
    date_modified = peewee.DateTimeField(default=utcnow)
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)

    class Meta:
        database = database
        table_name = "hold"
        indexes = ((("gift_card", "status", "deadline"), False),)


def apply(db: peewee.Database) -> None:
    db.create_tables([Order, Hold])
    migrator = SchemaMigrator.from_database(db)
    migrate(
        migrator.add_column("transaction", "hold_id",
                            peewee.ForeignKeyField(Hold, null=True, field=Hold.id, on_delete="RESTRICT")),
        migrator.add_column("transaction", "order_id",
                            peewee.ForeignKeyField(Order, null=True, field=Order.id, on_delete="RESTRICT")),
        migrator.add_column("idempotency_record", "resource_kind", peewee.CharField(max_length=20, null=True)),
        migrator.add_column("idempotency_record", "resource_id", peewee.IntegerField(null=True)),
    )
