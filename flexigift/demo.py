"""Demo data: the world the tutorials start from.

Loaded into an empty database, it makes the ids of the tutorials come out as
written: user 5 is ``user005`` and gift card 8 is ``gap-gc-005`` (seed 000),
the next user registered gets id 6 and the next product id 5 (seed 001).
"""
from __future__ import annotations

import datetime

from .db import database
from .models import GiftCard, Product, User
from .resources.gift_cards import GiftCardEndpoint
from .resources.products import ProductEndpoint
from .resources.users import UserEndpoint

USERS = [
    ("user001", "amz1001", "Ada Lovelace", "ada.lovelace@example.com"),
    ("user002", "amz1002", "Grace Hopper", "grace.hopper@example.com"),
    ("user003", "amz1003", "Alan Turing", "alan.turing@example.com"),
    ("user004", "amz1004", "Edsger Dijkstra", "edsger.dijkstra@example.com"),
    ("user005", "amz9876", "Steve Stevens", "steve.stevens@example.com"),
]
CARDS = [
    ("gap-gc-001", "user001", "Gap", 50, "2027-06-30"),
    ("gap-gc-002", "user002", "Gap", 75, "2027-06-30"),
    ("kohls-gc-101", "user003", "Kohls", 100, "2027-03-31"),
    ("hanes-gc-001", "user004", "Hanes", 25, "2027-01-31"),
    ("gap-gc-003", None, "Gap", 120, "2027-12-31"),
    ("kohls-gc-102", None, "Kohls", 40, "2027-12-31"),
    ("gap-gc-004", "user001", "Gap", 60, "2027-09-30"),
    ("gap-gc-005", None, "Hanes", 200, "2026-12-31"),
]
PRODUCTS = [
    ("gap-jeans-001", "Slim Fit Jeans", "59.95", "Gap"),
    ("gap-tee-002", "Pocket T-Shirt", "14.50", "Gap"),
    ("kohls-towel-001", "Bath Towel Set", "39.99", "Kohls"),
    ("hanes-socks-001", "Crew Socks, 6 pairs", "12.00", "Hanes"),
]


class NotEmpty(RuntimeError):
    """Demo data goes only into an empty database, so its ids are the tutorials'."""


def load_demo_data() -> str:
    """Create the demo users, cards and products; a summary of what was made."""
    if User.select().exists() or GiftCard.select().exists() or Product.select().exists():
        raise NotEmpty("the database already has data; demo data is loaded only into an empty one")
    users, cards, products = UserEndpoint(), GiftCardEndpoint(), ProductEndpoint()
    with database.atomic():
        for user_id, amazon_id, name, email in USERS:
            users.create({"user_id": user_id, "amazon_id": amazon_id, "name": name, "email": email})
        for card_id, user_id, issuer, balance, expiry in CARDS:
            cards.create({"card_id": card_id, "user_id": user_id, "issuer": issuer,
                          "balance": balance * 100,
                          "expiry_date": datetime.date.fromisoformat(expiry)})
        for product_id, name, price, issuer in PRODUCTS:
            products.create({"product_id": product_id, "name": name,
                             "price": int(price.replace(".", "")), "eligible_issuer": issuer})
    return f"{len(USERS)} users, {len(CARDS)} gift cards, {len(PRODUCTS)} products"
