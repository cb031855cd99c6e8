"""Zoom: embedding related resources in every item of a page, one query per
relation whatever the page size.

A to-many relation embeds at most ``FLEXIGIFT_ZOOM_CAP`` items per parent (the
first, by id): its one query numbers each parent's related rows in the
database and fetches only the first ``cap + 1`` of each (the extra one tells
that there are more), so a user with 10,000 cards costs what one with 101 does.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import peewee


@dataclass(frozen=True)
class Zoom:
    """A relation that can be embedded (``zoom=<name>``).

    ``many`` relations hold the items whose ``foreign_key`` points at the
    parent; single ones follow the parent's ``foreign_key`` to one item.
    ``target`` names the endpoint of the related items.
    """

    name: str
    target: str
    foreign_key: peewee.ForeignKeyField
    many: bool

    @property
    def rel(self) -> str:
        return f"fg:{self.name}"

    @property
    def more_than(self) -> str:
        """The parent's property saying the embedded items are only the first ones: like a
        collection's ``total_items_more_than``, the relation has more than this many."""
        return more_than_property(self.name)

    def related(self, target_endpoint, parents: list[peewee.Model], condition: Any = None,
                per_parent: int | None = None) -> dict[int, Any]:
        """Parent id → its related row (or list of rows), in one query; only rows that
        meet ``condition`` when one is given (what a principal may see); for a to-many
        relation, with ``per_parent``, at most that many rows of each parent (the first by id)."""
        if not parents:
            return {}
        model = target_endpoint.model
        if self.many:
            ids = [parent.id for parent in parents]
            grouped: dict[int, list] = defaultdict(list)
            if per_parent is None:
                rows = _rows_where(target_endpoint, self.foreign_key, ids, condition)
            else:
                rows = target_endpoint.rows_where_first(self.foreign_key, ids, per_parent, condition)
            for row in rows:
                grouped[getattr(row, self.foreign_key.column_name)].append(row)
            return {id: grouped.get(id, []) for id in ids}
        keys = {getattr(parent, self.foreign_key.column_name) for parent in parents} - {None}
        by_id = {row.id: row for row in _rows_where(target_endpoint, model.id, sorted(keys), condition)}
        return {parent.id: by_id.get(getattr(parent, self.foreign_key.column_name)) for parent in parents}

    def parents_matching(self, parent_model, target_endpoint, condition) -> Any:
        """An expression on the parent: it has a related item matching ``condition``."""
        model = target_endpoint.model
        if self.many:
            inner = target_endpoint.select().select(self.foreign_key).where(condition)
            return parent_model.id.in_(inner)
        inner = target_endpoint.select().select(model.id).where(condition)
        return self.foreign_key.in_(inner)


def more_than_property(name: str) -> str:
    """The property a parent carries when its zoomed relation ``name`` was capped."""
    return f"{name}_total_more_than"


def _rows_where(endpoint, column: peewee.Field, values: list[Any], condition: Any) -> list[peewee.Model]:
    if condition is None:
        return endpoint.rows_where(column, values)  # compiled once, the common case
    if not values:
        return []
    model = endpoint.model
    return endpoint.rows(endpoint.select().where(column.in_(values) & condition).order_by(model.id))
