"""Users: the shoppers, each with the list of gift cards linked to them."""
from __future__ import annotations

from typing import Any

from representations import Link

from ..errors import Conflict, NotFound
from ..models import GiftCard, Transaction, User
from ..query import fields as q
from ..query.zoom import Zoom
from ..schemas import UserSchema
from ..services.actors import shown_code
from ..services.linking import card_ids_by_user, card_ids_of, set_cards_of, user_with_card_ids, users_with_card_ids
from .endpoint import MAX_ID, Endpoint
from .present import iso

ATTRIBUTES = ("user_id", "amazon_id", "name", "email")


def _has_card(card_id: str):
    return User.id.in_(GiftCard.select(GiftCard.user).where(GiftCard.card_id == card_id))


class UserEndpoint(Endpoint):
    """``/users``: register shoppers and link their cards."""

    name, kind, title = "users", "user", "Users"
    model = User
    schema = UserSchema()
    code_properties = ("gift_cards",)
    # Derived from the schema's fields on the model's columns; declared: what lives elsewhere.
    filterable = q.derived_filters(
        schema, User,
        gift_cards=q.Custom(
            build=lambda op, card_id: _has_card(card_id) if op == "eq" else ~_has_card(card_id),
            parse_value=lambda text, parameter: text,
        ),
    )
    zoomable = {"gift_cards": Zoom("gift_cards", "gift_cards", GiftCard.user, many=True)}

    def lookup(self, id: int, for_update: bool = False) -> User:
        """The user with ``id`` (and its cards' ids, read in the same query), or a 404."""
        if for_update or not 0 < id <= MAX_ID:
            return super().lookup(id, for_update)
        user = user_with_card_ids(id)
        if user is None:
            raise NotFound(f"There is no {self.label} with id {id}.")
        return user

    def item_title(self, user: User) -> str:
        return user.user_id

    def properties(self, user: User) -> dict[str, Any]:
        cards = getattr(user, "card_ids", None)
        data = user.__data__  # the row's values, as the fields' descriptors would read them
        return {
            "user_id": data.get("user_id"),
            "amazon_id": data.get("amazon_id"),
            "name": data.get("name"),
            "email": data.get("email"),
            "gift_cards": [shown_code(code) for code in (card_ids_of(user) if cards is None else cards)],
            "id": data.get("id"),
            "date_created": iso(data.get("date_created")),
            "date_modified": iso(data.get("date_modified")),
        }

    def links(self, user: User, urls) -> dict[str, Link]:
        return {"fg:gift_cards": Link(urls.sub("users", user.id, "gift_cards"),
                                      f"Gift cards of {user.user_id}")}

    def rows_where(self, column, values: list[Any]) -> list[User]:
        """Users by id (a zoom of ``user``) come with their card_ids in the same query."""
        if column is User.id:
            return users_with_card_ids(values)
        return super().rows_where(column, values)

    def prepared(self, users: list[User]) -> list[User]:
        linked = card_ids_by_user(user.id for user in users)
        for user in users:
            user.card_ids = linked[user.id]
        return users

    def create(self, data: dict[str, Any]) -> User:
        self.check_unique(None, User.user_id, data["user_id"], "user_id")
        user = User.create(**{key: data.get(key) for key in ATTRIBUTES})
        if data.get("gift_cards"):
            set_cards_of(user, data["gift_cards"])
        return user

    def change(self, user: User, data: dict[str, Any], *, replace: bool) -> User:
        if replace:
            data = self.cleared(data)
        if "user_id" in data and data["user_id"] != user.user_id:
            self.check_unique(user, User.user_id, data["user_id"], "user_id")
        for key in ATTRIBUTES:
            if key in data:
                setattr(user, key, data[key])
        if "gift_cards" in data:
            set_cards_of(user, data["gift_cards"] or [])
        user.touch()
        user.save()
        return user

    def delete(self, user: User) -> None:
        if Transaction.select().where(Transaction.user == user.id).exists():
            raise Conflict(
                f"User {user.user_id!r} has gift card transactions; deleting the user would "
                "break that history.", logref="has_history",
            )
        GiftCard.update(user=None).where(GiftCard.user == user.id).execute()
        user.delete_instance()
