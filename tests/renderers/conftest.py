"""Hand-built resources the renderer tests share: no app, no database.

Each fixture builds a fresh resource, so a test may change what it gets. The
fixtures named in ``SAMPLES`` have golden documents (``tests/golden/``).
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Callable

import pytest

from representations import Action, Curie, Field, Link, Resource, error_document

BASE = "http://x.test"
CURIES = (Curie("fg", f"{BASE}/rels/{{rel}}"),)
CREATED = datetime.datetime(2026, 1, 2, 9, 4, 39, tzinfo=datetime.timezone.utc)


def user_item(number: int, user_id: str, name: str | None) -> Resource:
    """A user as a collection embeds it: properties, self and the user's cards."""
    return Resource(
        kind="user",
        properties={"id": number, "user_id": user_id, "name": name},
        links={
            "self": Link(f"{BASE}/users/{number}", title=name or user_id),
            "fg:gift_cards": Link(f"{BASE}/users/{number}/gift_cards", title="Gift cards"),
        },
    )


def make_user() -> Resource:
    """A user with every kind of value: Decimal, date, datetime, list, mapping, None."""
    return Resource(
        kind="user",
        rel="fg:user",
        title="Ada Lovelace",
        curies=CURIES,
        properties={
            "id": 1,
            "user_id": "ada",
            "amazon_id": None,
            "name": "Ada Lovelace",
            "email": "ada@example.test",
            "gift_cards": ["KOHLS-0001", "GAP-0002"],
            "total_balance": Decimal("312.50"),
            "member_since": datetime.date(2025, 12, 31),
            "preferences": {"newsletter": True, "currency": "USD"},
            "date_created": CREATED,
        },
        links={
            "self": Link(f"{BASE}/users/1", title="Ada Lovelace"),
            "fg:gift_cards": Link(f"{BASE}/users/1/gift_cards", title="This user's gift cards"),
            "fg:payment_options": Link(
                f"{BASE}/users/1/payment_options{{?product_id}}",
                title="Cards that can pay for a product",
                templated=True,
            ),
        },
    )


def _update_card_action(href: str) -> Action:
    return Action(
        name="update",
        href=href,
        method="PATCH",
        title="Update this gift card",
        fields=(
            Field("user_id", "text", "User", value="ada", max_length=50),
            Field("status", "text", "Status", value="active", required=True,
                  options=("active", "disabled")),
            Field("expiry_date", "date", "Expiry date", value=datetime.date(2027, 12, 31)),
            Field("rechargeable", "checkbox", "Rechargeable", value=True),
            Field("recipient_email", "email", "Recipient email", max_length=254),
        ),
    )


def _redeem_action(href: str) -> Action:
    return Action(
        name="redeem",
        href=href,
        method="POST",
        title="Redeem an amount",
        fields=(
            Field("amount", "number", "Amount", required=True,
                  description="In the card's currency, e.g. 12.50"),
            Field("product_id", "text", "Product", required=True, max_length=50),
            Field("order_reference", "text", "Order reference", max_length=100),
        ),
    )


def make_gift_card() -> Resource:
    """A gift card with links and three actions: update (PATCH), redeem (POST), delete."""
    href = f"{BASE}/gift_cards/7"
    return Resource(
        kind="gift_card",
        rel="fg:gift_card",
        title="KOHLS-0001",
        curies=CURIES,
        properties={
            "id": 7,
            "card_id": "KOHLS-0001",
            "user_id": "ada",
            "issuer": "Kohls",
            "balance": Decimal("250"),
            "initial_balance": Decimal("300.00"),
            "currency_code": "USD",
            "expiry_date": datetime.date(2027, 12, 31),
            "status": "active",
            "single_use": False,
            "rechargeable": True,
            "balance_max": None,
            "metadata": {"campaign": "spring", "batch": 4},
        },
        links={
            "self": Link(href, title="KOHLS-0001"),
            "fg:user": Link(f"{BASE}/users/1", title="Ada Lovelace"),
            "fg:issuer": Link(f"{BASE}/issuers/3", title="Kohls"),
            "fg:transactions": Link(f"{href}/transactions", title="This card's transactions"),
        },
        actions=[
            _update_card_action(href),
            _redeem_action(f"{href}/redeem"),
            Action(name="delete", href=href, method="DELETE", title="Delete this gift card"),
        ],
    )


def _page_link(offset: int, title: str) -> Link:
    return Link(f"{BASE}/users?limit=2&offset={offset}", title=title)


def make_collection() -> Resource:
    """The first page (two of five) of the users collection, with a create action."""
    return Resource(
        kind="users",
        rel="fg:users",
        items_rel="fg:users",
        title="Users",
        curies=CURIES,
        properties={"total_items": 5, "returned_items": 2, "limit": 2, "offset": 0},
        links={
            "self": _page_link(0, "This collection"),
            "first": _page_link(0, "First page of this collection"),
            "next": _page_link(2, "Next page of this collection"),
            "last": _page_link(4, "Last page of this collection"),
        },
        embedded={
            "fg:users": [user_item(1, "ada", "Ada Lovelace"), user_item(2, "grace", None)],
        },
        actions=[
            Action(
                name="create",
                href=f"{BASE}/users",
                title="Register a user",
                fields=(
                    Field("user_id", "text", "User id", required=True, max_length=50),
                    Field("name", "text", "Name", max_length=100),
                    Field("email", "email", "Email"),
                ),
            )
        ],
    )


def make_empty_collection() -> Resource:
    """A users page with nothing on it: the items relation is there, empty."""
    return Resource(
        kind="users",
        rel="fg:users",
        items_rel="fg:users",
        curies=CURIES,
        properties={"total_items": 0, "returned_items": 0, "limit": 20, "offset": 0},
        links={
            "self": Link(f"{BASE}/users", title="This collection"),
            "first": Link(f"{BASE}/users?offset=0", title="First page of this collection"),
            "last": Link(f"{BASE}/users?offset=0", title="Last page of this collection"),
        },
        embedded={"fg:users": []},
    )


def make_error() -> Resource:
    """A validation failure naming two fields, with our curies set as the app does."""
    document = error_document(
        [
            {"logref": "validation", "message": "Missing data for required field.",
             "field": "user_id"},
            {"logref": "validation", "message": "Not a valid email address.",
             "field": "email"},
        ]
    )
    document.curies = CURIES
    return document


#: The resources with golden documents, by golden name.
SAMPLES: dict[str, Callable[[], Resource]] = {
    "user": make_user,
    "gift_card": make_gift_card,
    "collection": make_collection,
    "error": make_error,
}


@pytest.fixture
def user() -> Resource:
    return make_user()


@pytest.fixture
def gift_card() -> Resource:
    return make_gift_card()


@pytest.fixture
def collection() -> Resource:
    return make_collection()


@pytest.fixture
def empty_collection() -> Resource:
    return make_empty_collection()


@pytest.fixture
def error() -> Resource:
    return make_error()


@pytest.fixture(params=[*SAMPLES, "empty_collection"])
def any_resource(request: pytest.FixtureRequest) -> Resource:
    """Each hand-built resource in turn."""
    builders = {**SAMPLES, "empty_collection": make_empty_collection}
    return builders[request.param]()
