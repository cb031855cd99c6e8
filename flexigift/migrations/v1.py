"""The schema as version 1 shipped it: issuers, users, gift cards, products, the
ledger and idempotency records. Frozen: never edit it; later versions change
the schema in steps of their own, so a database made today and one made by
version 1 then migrated end up the same.
"""
from __future__ import annotations

import peewee

from ..db import database
from ..models import utcnow


class _Model(peewee.Model):
    id = peewee.AutoField()
    date_created = peewee.DateTimeField(default=utcnow)
    date_modified = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False


class Issuer(_Model):
    name = peewee.CharField(max_length=50, unique=True)
    currency_code = peewee.CharField(max_length=3, default="USD")
    expires_after = peewee.CharField(max_length=20, null=True)
    product_code_restrictions = peewee.TextField(null=True)


class User(_Model):
    user_id = peewee.CharField(max_length=50, unique=True)
    amazon_id = peewee.CharField(max_length=50, null=True)
    name = peewee.CharField(max_length=100, null=True)
    email = peewee.CharField(max_length=254, null=True)


class GiftCard(_Model):
    card_id = peewee.CharField(max_length=50, unique=True)
    user = peewee.ForeignKeyField(User, null=True, backref="gift_cards", on_delete="RESTRICT")
    issuer = peewee.ForeignKeyField(Issuer, backref="gift_cards", on_delete="RESTRICT")
    balance = peewee.BigIntegerField()
    initial_balance = peewee.BigIntegerField()
    currency_code = peewee.CharField(max_length=3)
    expiry_date = peewee.DateField(null=True)
    status = peewee.CharField(max_length=10, default="active")
    single_use = peewee.BooleanField(default=False)
    rechargeable = peewee.BooleanField(default=True)
    balance_max = peewee.BigIntegerField(null=True)
    recipient_email = peewee.CharField(max_length=254, null=True)
    reference = peewee.CharField(max_length=100, null=True)
    metadata = peewee.TextField(null=True)

    class Meta:
        constraints = [peewee.SQL("CHECK (balance >= 0)")]


class Product(_Model):
    product_id = peewee.CharField(max_length=50, unique=True)
    name = peewee.CharField(max_length=200)
    price = peewee.BigIntegerField()
    issuer = peewee.ForeignKeyField(Issuer, backref="products", on_delete="RESTRICT")


class Transaction(peewee.Model):
    id = peewee.AutoField()
    gift_card = peewee.ForeignKeyField(GiftCard, backref="transactions", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=10)
    amount = peewee.BigIntegerField()
    balance_after = peewee.BigIntegerField()
    product = peewee.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    user = peewee.ForeignKeyField(User, null=True, on_delete="RESTRICT")
    order_reference = peewee.CharField(max_length=100, null=True)
    idempotency_key = peewee.CharField(max_length=255, null=True)
    refund_of = peewee.ForeignKeyField("self", null=True, backref="refunds", on_delete="RESTRICT")
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False


class IdempotencyRecord(peewee.Model):
    id = peewee.AutoField()
    key = peewee.CharField(max_length=255, unique=True)
    fingerprint = peewee.CharField(max_length=64)
    status = peewee.IntegerField(null=True)
    transaction = peewee.ForeignKeyField(Transaction, null=True, on_delete="RESTRICT")
    date_created = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        legacy_table_names = False


MODELS = [Issuer, User, GiftCard, Product, Transaction, IdempotencyRecord]
