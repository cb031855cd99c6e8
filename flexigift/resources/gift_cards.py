"""Gift cards: codes that hold a balance, linked to at most one user.

The balance is set once, at creation (with its ``issue`` ledger entry); after
that only the money services change it, so a PUT or PATCH may repeat the
balance the card has but never set another.
"""
from __future__ import annotations

import datetime
from typing import Any

from peewee import JOIN

from representations import Action, Link

from ..action_schemas import AdjustSchema, AuthorizeSchema, RedeemSchema, ReloadSchema
from ..errors import BadRequest, Conflict, ValidationFailed
from ..models import GiftCard, Issuer, Transaction, User
from ..money import format_cents, to_number
from ..schemas import GiftCardSchema
from ..auth.principal import current_principal
from ..services.actors import shown_code
from ..services.payments import held_subquery
from ..services.cards import ACTIVE, EXPIRED, as_date, change_card, status_of
from ..currencies import ISO_4217
from ..services.issuers import DEFAULT_CURRENCY, issuer_named
from ..services.issuing import KEEP, CardTerms, issue_card
from ..services.linking import ensure_linkable, user_by_user_id
from ..query import fields as q
from ..query.zoom import Zoom
from .endpoint import Endpoint
from .forms import action_fields
from .links import linked_id
from .present import day, iso, json_object, json_text

DESCRIPTIVE = ("card_id", "expiry_date", "single_use", "rechargeable", "recipient_email", "reference")
REDEEM_FIELDS = action_fields(RedeemSchema())
RELOAD_FIELDS = action_fields(ReloadSchema())
AUTHORIZE_FIELDS = action_fields(AuthorizeSchema())
ADJUST_FIELDS = action_fields(AdjustSchema())


def card_status(card: GiftCard, today: datetime.date | None = None) -> str:
    """The stored status, or ``expired`` for an active card past its expiry date."""
    return status_of(card, today)


STATUSES = ("active", "disabled", "redeemed", "expired")


def parse_status(text: str, parameter: str) -> str:
    if text not in STATUSES:
        raise BadRequest(f"Query parameter {parameter}: {text!r} is not one of {', '.join(STATUSES)}.",
                         parameter, logref="bad_filter")
    return text


def status_condition(status: str, negate: bool = False):
    """The SQL for "the card's status (as shown) is ``status``": expiry is computed."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    past = GiftCard.expiry_date.is_null(False) & (GiftCard.expiry_date < today)
    active = GiftCard.status == "active"
    condition = {
        "active": active & ~past,
        "expired": active & past,
    }.get(status, GiftCard.status == status)
    return ~condition if negate else condition


class GiftCardEndpoint(Endpoint):
    """``/gift_cards``: issue cards and link them to users."""

    name, kind, title = "gift_cards", "gift_card", "Gift cards"
    model = GiftCard
    schema = GiftCardSchema()
    kept_on_put = ("balance", "currency_code", "status")
    code_properties = ("card_id",)
    # Derived from the schema's fields on the model's columns; declared: what lives elsewhere.
    filterable = q.derived_filters(
        schema, GiftCard,
        user_id=q.Text(User.user_id),
        issuer=q.Text(Issuer.name),
        status=q.Custom(build=lambda op, status: status_condition(status, op == "not"),
                        parse_value=lambda text, parameter: parse_status(text, parameter)),
    )
    zoomable = {
        "user": Zoom("user", "users", GiftCard.user, many=False),
        "issuer": Zoom("issuer", "issuers", GiftCard.issuer, many=False),
        "transactions": Zoom("transactions", "transactions", Transaction.gift_card, many=True),
    }
    required_on_create_only = ("balance",)

    def item_title(self, card: GiftCard) -> str:
        return shown_code(card.card_id)

    def select(self):
        # Only what properties() and links() read of the user and the issuer.
        # and what the card's active holds reserve (its available balance is the rest)
        return (GiftCard.select(GiftCard, User.id, User.user_id, Issuer.id, Issuer.name,
                                held_subquery().alias("held"))
                .join(User, on=(GiftCard.user == User.id), join_type=JOIN.LEFT_OUTER).switch(GiftCard)
                .join(Issuer))

    def properties(self, card: GiftCard) -> dict[str, Any]:
        # The row's values straight from peewee's __data__ (what each field's descriptor
        # would return, without a call per field: a page reads a few hundred of them).
        data = card.__data__
        currency, balance, balance_max = data.get("currency_code"), data.get("balance"), data.get("balance_max")
        return {
            "card_id": shown_code(data.get("card_id")),
            "user_id": card.user.user_id if data.get("user") is not None else None,
            "issuer": card.issuer.name,
            "balance": to_number(balance, currency),
            "expiry_date": day(data.get("expiry_date")),
            "initial_balance": to_number(data.get("initial_balance"), currency),
            "available_balance": to_number(balance - int(getattr(card, "held", 0) or 0), currency),
            "currency_code": currency,
            "status": card_status(card),
            "single_use": data.get("single_use"),
            "rechargeable": data.get("rechargeable"),
            "balance_max": None if balance_max is None else to_number(balance_max, currency),
            "recipient_email": data.get("recipient_email"),
            "reference": data.get("reference"),
            "metadata": json_object(data.get("metadata")),
            "id": data.get("id"),
            "date_created": iso(data.get("date_created")),
            "date_modified": iso(data.get("date_modified")),
        }

    def links(self, card: GiftCard, urls) -> dict[str, Link]:
        data = card.__data__
        item = urls.item("gift_cards", data.get("id"))
        links = {"fg:issuer": Link(urls.item("issuers", data.get("issuer")), card.issuer.name)}
        if data.get("user") is not None:
            links["fg:user"] = Link(urls.item("users", data.get("user")), card.user.user_id)
        links["fg:transactions"] = Link(f"{item}/transactions", "Transaction log")
        if card_status(card) == ACTIVE:
            links["fg:redeem"] = Link(f"{item}/redeem", "Pay with this card")
            links["fg:authorize"] = Link(f"{item}/authorize", "Hold an amount of this card")
            if data.get("rechargeable"):
                links["fg:reload"] = Link(f"{item}/reload", "Add money to this card")
        links["fg:adjust"] = Link(f"{item}/adjust", "Correct this card's balance")
        return links

    def actions(self, card: GiftCard, urls, properties: dict[str, Any]) -> list[Action]:
        """Update, delete and adjust, and, on an active card, redeem, authorize and (when rechargeable) reload."""
        actions = super().actions(card, urls, properties)
        if properties["status"] == ACTIVE:
            actions.append(Action("redeem", urls.sub("gift_cards", card.id, "redeem"), "POST",
                                  "Pay for a product with this card", fields=REDEEM_FIELDS))
            actions.append(Action("authorize", urls.sub("gift_cards", card.id, "authorize"), "POST",
                                  "Hold an amount of this card", fields=AUTHORIZE_FIELDS))
            if card.rechargeable:
                actions.append(Action("reload", urls.sub("gift_cards", card.id, "reload"), "POST",
                                      "Add money to this card", fields=RELOAD_FIELDS))
        actions.append(Action("adjust", urls.sub("gift_cards", card.id, "adjust"), "POST",
                              "Correct this card's balance", fields=ADJUST_FIELDS))
        return actions

    # -- writing ---------------------------------------------------------
    def currency_for(self, body: dict[str, Any], obj: GiftCard | None = None) -> str | None:
        """A card's own currency; for a new card, the one it asks for or its issuer's."""
        if obj is not None:
            return obj.currency_code
        asked = body.get("currency_code")
        if isinstance(asked, str) and asked in ISO_4217:
            return asked
        named = body.get("issuer")
        issuer = Issuer.get_or_none(Issuer.name == named) if isinstance(named, str) else None
        return issuer.currency_code if issuer is not None and issuer.currency_code else DEFAULT_CURRENCY

    def load(self, body: dict[str, Any], *, partial=False) -> dict[str, Any]:
        data = super().load(body, partial=partial)
        sets_user, user_pk = linked_id(body.get("_links"), ("fg:user", "user"), "users_item")
        if sets_user:
            data["user_id"] = None if user_pk is None else _user_id_of(user_pk)
        return data

    def create(self, data: dict[str, Any]) -> GiftCard:
        current_principal().check_issuer(data["issuer"], "issuer")
        self.check_unique(None, GiftCard.card_id, data["card_id"], "card_id")
        issuer = issuer_named(data["issuer"])
        user = user_by_user_id(data["user_id"]) if data.get("user_id") is not None else None
        _check_balance_max(data["balance"], data.get("balance_max"), issuer.currency_code)
        terms = CardTerms(balance=data["balance"], single_use=data.get("single_use", False),
                          rechargeable=data.get("rechargeable", True), balance_max=data.get("balance_max"),
                          expiry_date=data["expiry_date"] if "expiry_date" in data else KEEP)
        card = issue_card(issuer, data["card_id"], terms, user_pk=user.id if user is not None else None,
                          currency_code=data.get("currency_code"), status=data.get("status") or ACTIVE,
                          recipient_email=data.get("recipient_email"), reference=data.get("reference"),
                          metadata=json_text(data.get("metadata")))
        card.issuer, card.user = issuer, user
        return card

    def change(self, card: GiftCard, data: dict[str, Any], *, replace: bool) -> GiftCard:
        """Only the columns that differ are written, through the card service's rules."""
        if replace:
            if "expiry_date" not in data and status_of(card) == EXPIRED:
                data = {**data, "expiry_date": card.expiry_date}  # only an explicit extension revives it
            data = self.cleared(data)
        _check_unchanged(card, data)
        changes: dict[str, Any] = {}
        if "card_id" in data and data["card_id"] != card.card_id:
            self.check_unique(card, GiftCard.card_id, data["card_id"], "card_id")
        if "user_id" in data:
            user = user_by_user_id(data["user_id"]) if data["user_id"] is not None else None
            ensure_linkable(card, user)
            if (user.id if user is not None else None) != card.user_id:
                changes["user"] = user
        if "issuer" in data and data["issuer"] != card.issuer.name:
            changes["issuer"] = data["issuer"]
        if data.get("currency_code") is not None and data["currency_code"] != card.currency_code:
            changes["currency_code"] = data["currency_code"]
        if data.get("status") is not None and _status_changes(card, data["status"]):
            changes["status"] = data["status"]
        for key in (*DESCRIPTIVE, "balance_max"):
            if key in data and data[key] != _stored(card, key):
                changes[key] = data[key]
        if "metadata" in data and json_text(data["metadata"]) != card.metadata:
            changes["metadata"] = json_text(data["metadata"])
        return change_card(card, changes)

    def change_action(self, changes: dict[str, list[Any]]) -> str:
        """``extended`` for an expired card brought back by a later expiry date, ``disabled``
        or ``enabled`` for a change of status alone, ``updated`` otherwise."""
        if "expiry_date" in changes and changes.get("status", [None])[0] == EXPIRED:
            return "extended"
        if set(changes) == {"status"}:
            return {"disabled": "disabled", "active": "enabled"}.get(changes["status"][1], "updated")
        return "updated"

    def delete(self, card: GiftCard) -> None:
        if Transaction.select().where(Transaction.gift_card == card.id).exists():
            raise Conflict(
                f"Gift card {shown_code(card.card_id)!r} has transactions; deleting it would break its "
                "history. Disable it instead (PATCH status to disabled).", logref="has_history",
            )
        card.delete_instance()


def _user_id_of(user_pk: int) -> str:
    user = User.get_or_none(User.id == user_pk) if 0 < user_pk <= 2**31 - 1 else None
    if user is None:
        raise ValidationFailed.single("_links.fg:user", f"There is no user with id {user_pk}.")
    return user.user_id


def _check_unchanged(card: GiftCard, data: dict[str, Any]) -> None:
    if data.get("balance") is not None and data["balance"] != card.balance:
        raise ValidationFailed.single("balance", (
            f"The balance is {format_cents(card.balance, card.currency_code)}; it changes only through transactions "
            "(redeem, refund, reload, adjust), never by PUT or PATCH. Send the current balance or omit it."))


def _stored(card: GiftCard, key: str) -> Any:
    """A column as the loaded data compares with it (dates as dates)."""
    value = getattr(card, key)
    if key == "expiry_date" and isinstance(value, str):
        return as_date(value)
    return value


def _check_balance_max(balance: int, balance_max: int | None, currency_code: str | None) -> None:
    if balance_max is not None and balance > balance_max:
        raise ValidationFailed.single(
            "balance_max", f"Must be at least the balance ({format_cents(balance, currency_code)})."
        )


def _status_changes(card: GiftCard, status: str) -> bool:
    """Whether setting ``status`` changes the stored status (409 on a redeemed card)."""
    if status == card.status:
        return False
    if card.status == "redeemed":
        raise Conflict(f"Gift card {shown_code(card.card_id)!r} has been redeemed; its status cannot change.",
                       "status", logref="card_redeemed")
    return True
