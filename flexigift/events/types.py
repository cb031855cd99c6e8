"""The event types (``<resource>.<past-tense verb>``) and the patterns subscriptions
name them by (``card.*``, ``*``, or a type)."""
from __future__ import annotations

#: Every type of event Flexigift writes (holds and orders: written by their services;
#: ``hold.lapsed`` and a card's ``card.expired`` when its day passes: by the deliverer).
EVENT_TYPES = (
    "card.issued", "card.changed", "card.linked", "card.unlinked", "card.disabled", "card.enabled",
    "card.expired", "card.deleted", "card.redeemed", "card.refunded", "card.reloaded", "card.adjusted",
    "hold.authorized", "hold.captured", "hold.voided", "hold.lapsed",
    "order.created", "order.captured", "order.voided", "order.refunded",
    "user.created", "user.changed", "user.deleted",
    "product.created", "product.changed", "product.deleted",
    "issuer.created", "issuer.changed", "issuer.deleted",
)
#: The resource part of each type (``card`` of ``card.issued``).
RESOURCES = tuple(dict.fromkeys(name.partition(".")[0] for name in EVENT_TYPES))


def matches(pattern: str, event_type: str) -> bool:
    """Whether ``pattern`` (``*``, ``card.*`` or a whole type) names ``event_type``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.partition(".")[0] == pattern[:-2]
    return pattern == event_type


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` names no event type (``None`` when it is fine)."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return None
    if pattern.endswith(".*") and pattern[:-2] in RESOURCES:
        return None
    return (f"{pattern!r} is not an event type: use one of {', '.join(EVENT_TYPES)}, "
            f"<resource>.* ({', '.join(RESOURCES)}) or *")


def sql_like(pattern: str) -> str:
    """A type filter pattern as SQL LIKE (``card.*`` → ``card.%``)."""
    return pattern.replace("%", r"\%").replace("_", r"\_").replace("*", "%")


#: kind of row → the resource part of its events' types.
KIND_RESOURCES = {"gift_card": "card", "user": "user", "product": "product", "issuer": "issuer"}
#: audit trail action → event verb.
ACTION_VERBS = {"created": "created", "updated": "changed", "deleted": "deleted", "disabled": "disabled",
                "enabled": "enabled", "linked": "linked", "unlinked": "unlinked"}
#: ledger entry kind → the card event it makes (an issue entry comes with card.issued).
LEDGER_TYPES = {"redeem": "card.redeemed", "refund": "card.refunded", "reload": "card.reloaded",
                "adjust": "card.adjusted"}


def change_type(kind: str, action: str, changes: dict | None = None) -> str | None:
    """The event type of an audit trail change (``None``: not an event)."""
    resource = KIND_RESOURCES.get(kind)
    if resource is None:
        return None
    if resource == "card":
        if action == "created":
            return "card.issued"
        status = (changes or {}).get("status")
        if action == "updated" and status is not None and status[1] == "expired":
            return "card.expired"
    verb = ACTION_VERBS.get(action)
    return f"{resource}.{verb}" if verb else None
