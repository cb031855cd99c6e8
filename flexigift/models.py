"""The peewee models: issuers, users, gift cards, products and the ledger.

Money is stored in minor units (cents) as integers, never as floats. Times
are stored as naive UTC and shown with their offset. A card's owner is one
column (``GiftCard.user``): the user's list of cards is read from it, so the
two views can never disagree.
"""
from __future__ import annotations

import datetime

import peewee

from .db import database


def utcnow() -> datetime.datetime:
    """Now, in UTC, without tzinfo (as stored), to the microsecond."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class _LowerIndex(peewee.Node):
    """An index on ``lower(column)``, which serves a case-insensitive prefix filter
    (``card_id=gap*``); PostgreSQL's needs ``text_pattern_ops`` for ``LIKE``, and
    ``covering`` adds the column itself there (migration 10), without which
    PostgreSQL never answers a count of the prefix from the index alone."""

    def __init__(self, table: str, column: str, *, covering: bool = False):
        super().__init__()
        self.table, self.column, self.covering = table, column, covering

    def __sql__(self, ctx):
        postgres = ctx.state.param == "%s"  # the context knows its database by its placeholder
        ops = " text_pattern_ops" if postgres else ""
        include = f' INCLUDE ("{self.column}")' if postgres and self.covering else ""
        return ctx.literal(f'CREATE INDEX IF NOT EXISTS "{self.table}_{self.column}_lower" '
                           f'ON "{self.table}" (lower("{self.column}"){ops}){include}')


class _SqliteIdIndex(peewee.Node):
    """SQLite: an index of ``table``'s ids alone (migration 10), in which a deep page skips
    ids without reading the rows on the way. PostgreSQL's primary key is that index
    already, so there the statement does nothing."""

    def __init__(self, table: str):
        super().__init__()
        self.table = table

    def __sql__(self, ctx):
        if ctx.state.param == "%s":  # PostgreSQL
            return ctx.literal("SELECT 1")
        return ctx.literal(f'CREATE INDEX IF NOT EXISTS "{self.table}_id" ON "{self.table}" ("id")')


def _filter_indexes(table: str, plain: tuple[str, ...], lower: tuple[str, ...] = ()) -> list:
    """Migration 5's indexes: (column, id) for filters, orders and seeks; lower(column) for prefixes."""
    return [*(((column, "id"), False) for column in plain), *(_LowerIndex(table, column) for column in lower)]


class BaseModel(peewee.Model):
    """Common columns: ``id``, ``date_created``, ``date_modified``."""

    id = peewee.AutoField()
    date_created = peewee.DateTimeField(default=utcnow)
    date_modified = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False

    def touch(self) -> None:
        self.date_modified = utcnow()


class Issuer(BaseModel):
    """A card programme: the issuer's currency, expiry policy and product restrictions."""

    name = peewee.CharField(max_length=50, unique=True)
    currency_code = peewee.CharField(max_length=3, default="USD")
    expires_after = peewee.CharField(max_length=20, null=True)
    product_code_restrictions = peewee.TextField(null=True)

    class Meta:
        indexes = _filter_indexes("issuer", ("currency_code", "expires_after", "date_created"),
                                  ("name", "currency_code"))


class User(BaseModel):
    """A shopper registered by a shopper app."""

    user_id = peewee.CharField(max_length=50, unique=True)
    amazon_id = peewee.CharField(max_length=50, null=True)
    name = peewee.CharField(max_length=100, null=True)
    email = peewee.CharField(max_length=254, null=True)

    class Meta:
        indexes = [_LowerIndex("user", "user_id"), _LowerIndex("user", "email"),
                   *_filter_indexes("user", ("amazon_id", "name", "date_created"), ("amazon_id", "name"))]


class GiftCard(BaseModel):
    """One card: a code that holds a balance, linked to at most one user."""

    card_id = peewee.CharField(max_length=50, unique=True)
    user = peewee.ForeignKeyField(User, null=True, backref="gift_cards", on_delete="RESTRICT")
    issuer = peewee.ForeignKeyField(Issuer, backref="gift_cards", on_delete="RESTRICT")
    balance = peewee.BigIntegerField(index=True)
    initial_balance = peewee.BigIntegerField()
    currency_code = peewee.CharField(max_length=3)
    expiry_date = peewee.DateField(null=True, index=True)
    status = peewee.CharField(max_length=10, default="active")
    single_use = peewee.BooleanField(default=False)
    rechargeable = peewee.BooleanField(default=True)
    balance_max = peewee.BigIntegerField(null=True)
    recipient_email = peewee.CharField(max_length=254, null=True)
    reference = peewee.CharField(max_length=100, null=True)
    metadata = peewee.TextField(null=True)

    class Meta:
        constraints = [peewee.SQL("CHECK (balance >= 0)")]
        indexes = [(("date_created",), False), _LowerIndex("gift_card", "card_id", covering=True),
                   _SqliteIdIndex("gift_card"),
                   *_filter_indexes("gift_card", ("initial_balance", "currency_code", "single_use", "rechargeable",
                                                  "balance_max", "recipient_email", "reference"),
                                    ("currency_code", "recipient_email", "reference"))]


class Product(BaseModel):
    """A product an issuer allows its cards to buy."""

    product_id = peewee.CharField(max_length=50, unique=True)
    name = peewee.CharField(max_length=200)
    price = peewee.BigIntegerField(index=True)
    issuer = peewee.ForeignKeyField(Issuer, backref="products", on_delete="RESTRICT")

    class Meta:
        indexes = [_LowerIndex("product", "product_id"),
                   *_filter_indexes("product", ("name", "date_created"), ("name",))]


class Order(peewee.Model):
    """One order paid by one or more cards, all or nothing: by holds (``authorize``)
    or by redemptions (``capture``), each linked back to it. Its state is derived
    from them; the row itself records only what was asked for."""

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
    """An amount reserved on a card until ``deadline``: ``active`` until captured (all or
    part, ``captured``; a redeem entry linked to it) or voided. An active hold past its
    deadline is shown ``lapsed`` and reserves nothing (no job needs to flip it)."""

    id = peewee.AutoField()
    gift_card = peewee.ForeignKeyField(GiftCard, backref="holds", on_delete="RESTRICT")
    amount = peewee.BigIntegerField()
    captured = peewee.BigIntegerField(default=0)
    status = peewee.CharField(max_length=10, default="active")
    order_reference = peewee.CharField(max_length=100, null=True, index=True)
    order = peewee.ForeignKeyField(Order, null=True, backref="holds", on_delete="RESTRICT")
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


class Transaction(peewee.Model):
    """One entry of a card's ledger. Append only: never updated, never deleted."""

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
    #: Why an ``adjust`` entry was made (required there; empty elsewhere).
    reason = peewee.CharField(max_length=200, null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)
    #: Who made the entry: the API token's name and role at the time (and its id).
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)
    #: The hold a redemption captures, the order it paid (version 7).
    hold = peewee.ForeignKeyField(Hold, null=True, backref="captures", on_delete="RESTRICT")
    order = peewee.ForeignKeyField(Order, null=True, backref="entries", on_delete="RESTRICT")

    class Meta:
        database = database
        legacy_table_names = False
        indexes = _filter_indexes("transaction", ("kind", "amount", "balance_after", "order_reference",
                                                  "idempotency_key", "actor_name", "actor_role"),
                                  ("kind", "order_reference", "idempotency_key", "actor_name", "actor_role"))


class IdempotencyRecord(peewee.Model):
    """The first outcome of a money request sent with an ``Idempotency-Key``.

    ``key`` is unique, so two first attempts with one key are serialised by the
    database: the second waits for the first and then reads its outcome.
    ``fingerprint`` identifies the request (method, path, normalised body), so a
    key reused for a different request is refused. Only successful outcomes are
    stored: a refused request writes nothing, so its retry is decided afresh.
    A record expires ``FLEXIGIFT_IDEMPOTENCY_TTL`` after ``date_created`` and is
    then pruned; nothing refers to it, so deleting it leaves the ledger whole.
    """

    id = peewee.AutoField()
    key = peewee.CharField(max_length=255, unique=True)
    fingerprint = peewee.CharField(max_length=64)
    status = peewee.IntegerField(null=True)
    transaction = peewee.ForeignKeyField(Transaction, null=True, on_delete="RESTRICT")
    #: The outcome of a request whose answer is a hold or an order (version 7).
    resource_kind = peewee.CharField(max_length=20, null=True)
    resource_id = peewee.IntegerField(null=True)
    #: When the key was first used: the record expires a TTL later (indexed by version 9).
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        legacy_table_names = False


class ApiToken(peewee.Model):
    """An API token: its name and role, and a one-way hash of its secret (never the secret).

    ``role`` is ``admin``, ``issuer``, ``checkout`` or ``readonly``; an issuer
    token names its issuer in ``issuer_name``. A revoked token keeps its row
    (its name still labels what it did) and never authenticates again.
    """

    id = peewee.AutoField()
    name = peewee.CharField(max_length=100)
    role = peewee.CharField(max_length=10)
    issuer_name = peewee.CharField(max_length=50, null=True, index=True)
    token_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=12)
    date_created = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)

    class Meta:
        database = database
        table_name = "api_token"


class CardGrant(peewee.Model):
    """A checkout token's access to a card it found by its code, until ``expires_at``."""

    token = peewee.ForeignKeyField(ApiToken, on_delete="CASCADE")
    gift_card = peewee.ForeignKeyField(GiftCard, on_delete="CASCADE")
    expires_at = peewee.DateTimeField()

    class Meta:
        database = database
        table_name = "card_grant"
        primary_key = peewee.CompositeKey("token", "gift_card")


class RateCounter(peewee.Model):
    """How many failures one subject (an address, a token) had in one time window."""

    key = peewee.CharField(max_length=200)
    window = peewee.BigIntegerField()
    hits = peewee.IntegerField()

    class Meta:
        database = database
        table_name = "rate_counter"
        primary_key = peewee.CompositeKey("key", "window")


class ServerSecret(peewee.Model):
    """Random keys every server process shares (signing CSRF tokens, keying ETags)."""

    purpose = peewee.CharField(max_length=30, primary_key=True)
    secret = peewee.CharField(max_length=128)

    class Meta:
        database = database
        table_name = "server_secret"


class Change(peewee.Model):
    """The audit trail: one change of one resource (created, updated, deleted, a status
    change, linked, unlinked), who made it and when, and what changed
    (``changes``: JSON ``{field: [before, after]}``). Append only."""

    id = peewee.AutoField()
    resource = peewee.CharField(max_length=20)
    resource_id = peewee.IntegerField()
    action = peewee.CharField(max_length=20)
    changes = peewee.TextField(null=True)
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        table_name = "change"
        indexes = ((("resource", "resource_id", "id"), False),
                   *_filter_indexes("change", ("resource_id", "action", "actor_name", "actor_role"),
                                    ("action", "actor_name", "actor_role")))


class SchemaVersion(peewee.Model):
    """Which migrations have been applied to this database."""

    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "schema_version"


class RowCount(peewee.Model):
    """How many rows a table holds, kept by triggers (COUNT(*) reads the whole
    table): a table's shards add up to its row count. On PostgreSQL writers add
    to the shard of their server connection, so concurrent inserts into one
    table rarely wait for each other's counter row; SQLite, whose writers take
    turns anyway, keeps one shard."""

    table_name = peewee.CharField(max_length=63)
    shard = peewee.SmallIntegerField()
    rows = peewee.BigIntegerField()

    class Meta:
        database = database
        table_name = "row_count"
        primary_key = peewee.CompositeKey("table_name", "shard")


class Event(peewee.Model):
    """One change that matters (``card.redeemed``), written in the transaction of the
    change (a transactional outbox): the resource it is about, the issuer whose event
    it is (``None``: an admin's alone), the actor, and the resource's plain-JSON
    representation at that moment. Append only."""

    id = peewee.AutoField()
    type = peewee.CharField(max_length=40)
    resource = peewee.CharField(max_length=20)
    resource_id = peewee.IntegerField()
    issuer_id = peewee.IntegerField(null=True)
    representation = peewee.TextField()
    actor_name = peewee.CharField(max_length=100, null=True)
    actor_role = peewee.CharField(max_length=60, null=True)
    token_id = peewee.IntegerField(null=True)
    date_created = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        database = database
        table_name = "event"
        indexes = ((("type", "id"), False), (("resource", "resource_id", "id"), False),
                   (("issuer_id", "id"), False))


class Webhook(peewee.Model):
    """A subscription: events whose type matches ``event_types`` (JSON list of patterns)
    are POSTed to ``url``, signed with ``secret``. An issuer's subscription
    (``issuer_id``) sees only that issuer's events. ``status`` is ``active`` or
    ``paused`` (``paused_reason`` says why)."""

    id = peewee.AutoField()
    url = peewee.CharField(max_length=2000)
    event_types = peewee.TextField()
    secret = peewee.CharField(max_length=200)
    issuer_id = peewee.IntegerField(null=True, index=True)
    status = peewee.CharField(max_length=10, default="active")
    paused_reason = peewee.CharField(max_length=300, null=True)
    consecutive_failures = peewee.IntegerField(default=0)
    actor_name = peewee.CharField(max_length=100, null=True)
    date_created = peewee.DateTimeField(default=utcnow)
    date_modified = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "webhook"


class Delivery(peewee.Model):
    """One event owed to one subscription: ``pending`` until delivered (``delivered``)
    or given up (``failed``), with its attempts and the last answer."""

    id = peewee.AutoField()
    webhook = peewee.ForeignKeyField(Webhook, backref="deliveries", on_delete="CASCADE")
    event = peewee.ForeignKeyField(Event, on_delete="RESTRICT")
    status = peewee.CharField(max_length=10, default="pending")
    attempts = peewee.IntegerField(default=0)
    last_status_code = peewee.IntegerField(null=True)
    last_error = peewee.CharField(max_length=300, null=True)
    next_attempt_at = peewee.DateTimeField(default=utcnow)
    delivered_at = peewee.DateTimeField(null=True)
    date_created = peewee.DateTimeField(default=utcnow)
    date_modified = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "delivery"
        indexes = ((("status", "next_attempt_at"), False), (("webhook", "status", "id"), False))


#: The tables of the API's data (each with an ``id``).
MODELS = [Issuer, User, GiftCard, Product, Transaction, IdempotencyRecord, Change, Order, Hold, Event,
          Webhook, Delivery]
#: The tables whose rows are counted by triggers (the collections' tables).
COUNTED = (Issuer, User, GiftCard, Product, Transaction)
#: Every table the migrations create (MODELS, then the bookkeeping ones).
TABLES = [*MODELS, ApiToken, CardGrant, RateCounter, ServerSecret, RowCount, SchemaVersion]
