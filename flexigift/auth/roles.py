"""Roles, and what each may do on every route: the one table that decides.

Every route (a Flask endpoint name) maps each method to the roles allowed to
use it; HEAD and OPTIONS follow GET. The table is enforced on every request
before a view runs (403), and the same table screens every response: a link is
shown only to a role that may follow it, an action (a Siren action, an HTML
form, an OPTIONS write) only to a role that may perform it.

What a role sees *within* a route it may use (an issuer's own cards, a
checkout's findable cards) is decided by :mod:`.scopes`.
"""
from __future__ import annotations

from dataclasses import dataclass

ADMIN, ISSUER, CHECKOUT, READONLY = "admin", "issuer", "checkout", "readonly"
ROLES = (ADMIN, ISSUER, CHECKOUT, READONLY)
#: No token: only the public routes (no token can have this role).
VISITOR_ROLE = "visitor"


class InvalidRole(ValueError):
    """A role that is not admin, issuer:<name>, checkout or readonly."""


@dataclass(frozen=True)
class Role:
    """A token's role: its kind and, for an issuer, the issuer's name."""

    kind: str
    issuer_name: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Role":
        kind, sep, issuer = text.partition(":")
        if kind == ISSUER and sep and issuer.strip():
            if len(issuer) > 50:
                raise InvalidRole("an issuer's name has at most 50 characters")
            return cls(ISSUER, issuer)
        if kind in (ADMIN, CHECKOUT, READONLY) and not sep:
            return cls(kind)
        raise InvalidRole(f"{text!r} is not a role: use admin, issuer:<issuer name>, checkout or readonly")

    def __str__(self) -> str:
        return f"{ISSUER}:{self.issuer_name}" if self.kind == ISSUER else self.kind

    @property
    def sees_codes(self) -> bool:
        """Whether full card codes are shown (checkout and readonly see them masked)."""
        return self.kind in (ADMIN, ISSUER)


EVERYONE = frozenset(ROLES)
A, I, C, R = ({ADMIN}, {ISSUER}, {CHECKOUT}, {READONLY})


def _roles(*groups: set[str]) -> frozenset[str]:
    return frozenset().union(*groups)


#: Routes anyone may use, without a token (signing in, the stylesheet).
PUBLIC = frozenset({"sign_in", "static", "public_openapi", "public_postman"})

#: route → method → the roles that may use it. A route or method missing here is
#: refused to everyone but an admin… and a test fails, so none can be forgotten.
RULES: dict[str, dict[str, frozenset[str]]] = {
    "home": {"GET": EVERYONE},
    "rels_index": {"GET": EVERYONE},
    "rel_page": {"GET": EVERYONE},
    "sign_out": {"POST": EVERYONE},
    "users_collection": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "users_item": {"GET": _roles(A, C, R), "PUT": _roles(A, C), "PATCH": _roles(A, C),
                   "DELETE": _roles(A, C)},
    "users_gift_cards": {"GET": _roles(A, C, R)},
    "users_history": {"GET": _roles(A, C, R)},
    "user_payment_options": {"GET": _roles(A, C, R)},
    "gift_cards_collection": {"GET": _roles(A, I, R), "POST": _roles(A, I)},
    "gift_cards_item": {"GET": EVERYONE, "PUT": _roles(A, I), "PATCH": _roles(A, I),
                        "DELETE": _roles(A, I)},
    "gift_card_transactions": {"GET": EVERYONE},
    "gift_cards_history": {"GET": EVERYONE},
    "gift_card_redeem": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "gift_card_reload": {"GET": _roles(A, I, R), "POST": _roles(A, I)},
    "gift_card_adjust": {"GET": _roles(A), "POST": _roles(A)},
    "card_lookup": {"GET": _roles(A, C), "POST": _roles(A, C)},
    "products_collection": {"GET": EVERYONE, "POST": _roles(A, I)},
    "products_item": {"GET": EVERYONE, "PUT": _roles(A, I), "PATCH": _roles(A, I),
                      "DELETE": _roles(A, I)},
    "products_history": {"GET": _roles(A, I, R)},
    "product_payment_options": {"GET": _roles(A, C, R)},
    "issuers_collection": {"GET": EVERYONE, "POST": _roles(A, I)},
    "issuers_item": {"GET": EVERYONE, "PUT": _roles(A, I), "PATCH": _roles(A, I), "DELETE": _roles(A)},
    "issuers_gift_cards": {"GET": _roles(A, I, R)},
    "issuers_products": {"GET": EVERYONE},
    "issuers_history": {"GET": _roles(A, I, R)},
    "issuer_bulk_create": {"GET": _roles(A, I, R), "POST": _roles(A, I)},
    "issuer_generate_codes": {"GET": _roles(A, I, R), "POST": _roles(A, I)},
    "transactions_collection": {"GET": _roles(A, I, R)},
    "transactions_item": {"GET": EVERYONE},
    "transaction_refund": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "holds_collection": {"GET": _roles(A, C, R)},
    "holds_item": {"GET": _roles(A, I, C, R)},
    "gift_card_holds": {"GET": EVERYONE},
    "gift_card_authorize": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "hold_capture": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "hold_void": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "orders_collection": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "orders_item": {"GET": _roles(A, C, R)},
    "order_capture": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "order_void": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "order_refund": {"GET": _roles(A, C, R), "POST": _roles(A, C)},
    "changes_collection": {"GET": _roles(A, R)},
    "changes_item": {"GET": _roles(A, I, C, R)},
    "events_collection": {"GET": _roles(A, I)},
    "events_item": {"GET": _roles(A, I)},
    "webhooks_collection": {"GET": _roles(A, I), "POST": _roles(A, I)},
    "webhooks_item": {"GET": _roles(A, I), "PUT": _roles(A, I), "PATCH": _roles(A, I),
                      "DELETE": _roles(A, I)},
    "webhooks_deliveries": {"GET": _roles(A, I)},
    "deliveries_item": {"GET": _roles(A, I)},
    "delivery_redeliver": {"GET": _roles(A, I), "POST": _roles(A, I)},
}

#: Routes whose link stands for an action: shown only to roles that may POST there.
ACTIONS = frozenset({"gift_card_redeem", "gift_card_reload", "gift_card_adjust", "card_lookup",
                     "transaction_refund", "issuer_bulk_create", "issuer_generate_codes", "gift_card_authorize",
                     "hold_capture", "hold_void", "order_capture", "order_void", "order_refund",
                     "delivery_redeliver"})

def allowed(role: str, route: str | None, method: str) -> bool:
    """Whether a role (its kind) may use ``method`` on ``route``.

    HEAD follows GET; OPTIONS is open to a role that may use any method there.
    A route missing from :data:`RULES` is an admin's alone.
    """
    if route in PUBLIC:
        return True
    rules = RULES.get(route or "")
    if rules is None:
        return role == ADMIN
    if method == "OPTIONS":
        return any(role in roles for roles in rules.values())
    roles = rules.get("GET" if method == "HEAD" else method)
    return roles is not None and role in roles


def link_method(route: str) -> str:
    """The method a link to ``route`` stands for: POST for an action, GET otherwise."""
    return "POST" if route in ACTIONS else "GET"
