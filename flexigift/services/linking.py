"""Linking cards to users. The card's ``user`` column is the one fact; a user's
``gift_cards`` list is read from it, so the two views always agree.
"""
from __future__ import annotations

from typing import Iterable

import peewee

from .. import events
from ..db import database
from ..errors import Conflict, ValidationFailed
from ..models import GiftCard, User, utcnow
from ..query import compiled
from ..query.compiled import CompiledSelect, TemplateSelect
from ..query.rows import RowPlan
from . import changes
from .actors import MASK, mask, shown_code


_CARD_IDS_OF_USER = CompiledSelect(
    lambda user: GiftCard.select(GiftCard.card_id).where(GiftCard.user == user).order_by(GiftCard.id)
)
_CARD_IDS_OF_USERS = TemplateSelect(
    lambda users: (GiftCard.select(GiftCard.user, GiftCard.card_id)
                   .where(GiftCard.user.in_(users)).order_by(GiftCard.id)),
    raw=True,
)

#: A user's columns, then the card_id of each card linked to it (a row per card, or one with NULL).
_USER_AND_CARD_IDS = TemplateSelect(
    lambda user: (User.select(*User._meta.sorted_fields, GiftCard.card_id)
                  .join(GiftCard, peewee.JOIN.LEFT_OUTER, on=(GiftCard.user == User.id))
                  .where(User.id == user).order_by(GiftCard.id)),
    raw=True,
)
_USER_PLAN = RowPlan.for_model(User)

#: The same for several users, in id order.
_USERS_AND_CARD_IDS = TemplateSelect(
    lambda users: (User.select(*User._meta.sorted_fields, GiftCard.card_id)
                   .join(GiftCard, peewee.JOIN.LEFT_OUTER, on=(GiftCard.user == User.id))
                   .where(User.id.in_(users)).order_by(User.id, GiftCard.id)),
    raw=True,
)


def user_by_user_id(user_id: str, field: str = "user_id") -> User:
    """The user with this ``user_id``, or a 422 naming ``field``."""
    user = User.get_or_none(User.user_id == user_id)
    if user is None:
        raise ValidationFailed.single(field, f"There is no user with user_id {user_id!r}.")
    return user


def card_ids_of(user: User) -> list[str]:
    """The card_ids linked to ``user``, in the order they were created."""
    return [card.card_id for card in _CARD_IDS_OF_USER.rows(user.id)]


def user_with_card_ids(id: int) -> User | None:
    """The user with ``id`` and (as ``card_ids``) the card_ids linked to it, in one query."""
    if compiled.PLAIN_QUERIES:  # peewee's own wrapper: the card_id lands on each row's user
        rows = list(_USER_AND_CARD_IDS.build(id).objects())
        if not rows:
            return None
        user = rows[0]
        user.card_ids = [row.card_id for row in rows if row.card_id is not None]
        return user
    rows = _USER_AND_CARD_IDS.fill(database.obj.param, [id])
    if not rows:
        return None
    width = len(_USER_PLAN.columns)
    user = _USER_PLAN.build([rows[0][:width]])[0]
    user.card_ids = [row[width] for row in rows if row[width] is not None]
    return user


def users_with_card_ids(ids: list[int]) -> list[User]:
    """The users with these ids, in id order, each with (as ``card_ids``) the card_ids linked
    to it, in one query (a zoom of users: their cards are a property)."""
    if compiled.PLAIN_QUERIES:  # peewee's own wrapper: the card_id lands on each row's user
        users: dict[int, User] = {}
        for row in _USERS_AND_CARD_IDS.build(list(ids)).objects():
            user = users.setdefault(row.id, row)
            if user is row:
                user.card_ids = []
            if row.card_id is not None:
                user.card_ids.append(row.card_id)
        for user in users.values():
            del user.card_id  # the column the join added: not an attribute a user has
        return list(users.values())
    width = len(_USER_PLAN.columns)
    id_at = [name for _, name, _, _ in _USER_PLAN.columns].index("id")
    firsts: list[tuple] = []
    card_ids: list[list[str]] = []
    for row in _USERS_AND_CARD_IDS.fill_values(ids):
        if not firsts or firsts[-1][id_at] != row[id_at]:
            firsts.append(row[:width])
            card_ids.append([])
        if row[width] is not None:
            card_ids[-1].append(row[width])
    users = _USER_PLAN.build(firsts)
    for user, linked in zip(users, card_ids):
        user.card_ids = linked
    return users


def card_ids_by_user(user_ids: Iterable[int]) -> dict[int, list[str]]:
    """For many users at once (one query): their linked card_ids."""
    ids = list(user_ids)
    linked: dict[int, list[str]] = {id: [] for id in ids}
    for user_id, card_id in _CARD_IDS_OF_USERS.fill_values(ids):
        linked[user_id].append(card_id)
    return linked


def ensure_linkable(card: GiftCard, user: User | None) -> None:
    """409 when ``card`` already belongs to someone other than ``user``."""
    if user is not None and card.user_id is not None and card.user_id != user.id:
        owner = User.get_by_id(card.user_id)
        raise Conflict(
            f"Gift card {shown_code(card.card_id)!r} is already linked to user {owner.user_id!r}; "
            "unlink it there first.", "gift_cards", logref="card_linked_elsewhere",
        )


def set_cards_of(user: User, card_ids: list[str]) -> None:
    """Link exactly ``card_ids`` to ``user``, unlinking the user's other cards.

    A masked code (as a principal that may not see codes reads the list) stands
    for the user's linked card it masks, so a list read and sent back unchanged
    keeps the user's cards. A code that names no card is a failed look-up.
    """
    linked_now = {card.card_id: card.id for card in
                  GiftCard.select(GiftCard.id, GiftCard.card_id).where(GiftCard.user == user.id)}
    wanted = list(dict.fromkeys(_unmasked(card_ids, linked_now)))
    cards = {card.card_id: card for card in GiftCard.select().where(GiftCard.card_id.in_(wanted))}
    missing = [card_id for card_id in wanted if card_id not in cards]
    if missing:
        raise ValidationFailed.single(
            "gift_cards", f"There is no gift card with card_id {', '.join(map(repr, missing))}."
        ).counting_as_failed_lookup()
    for card in cards.values():
        ensure_linkable(card, user)
    now = utcnow()
    dropped = [pk for card_id, pk in linked_now.items() if card_id not in cards]
    if dropped:
        GiftCard.update(user=None, date_modified=now).where(GiftCard.id.in_(dropped)).execute()
        changes.record_many("gift_card", dropped, "unlinked", {"user_id": [user.user_id, None]})
        events.emit_many("card.unlinked", "gift_card", dropped)
    unlinked = [card for card in cards.values() if card.user_id is None]
    if unlinked:
        linked = (GiftCard.update(user=user.id, date_modified=now)
                  .where(GiftCard.id.in_([card.id for card in unlinked]) & GiftCard.user.is_null())
                  .execute())
        if linked != len(unlinked):
            raise Conflict("A gift card was linked to another user at the same time; try again.",
                           "gift_cards", logref="card_linked_elsewhere")
        changes.record_many("gift_card", [card.id for card in unlinked], "linked",
                            {"user_id": [None, user.user_id]})
        events.emit_many("card.linked", "gift_card", [card.id for card in unlinked])


def _unmasked(card_ids: list[str], linked: dict[str, int]) -> list[str]:
    """``card_ids`` with each mask of a card in ``linked`` replaced by that card's code."""
    if not any(card_id.startswith(MASK) for card_id in card_ids):
        return card_ids
    masks: dict[str, list[str]] = {}
    for code in linked:
        masks.setdefault(mask(code), []).append(code)
    return [code for card_id in card_ids for code in masks.get(card_id, [card_id])]
