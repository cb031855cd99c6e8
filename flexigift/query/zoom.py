"""Zoom: embedding related resources in every item of a page, one query per
relation whatever the page size.
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

    def related(self, target_endpoint, parents: list[peewee.Model], condition: Any = None) -> dict[int, Any]:
        """Parent id → its related row (or list of rows), in one query; only rows that
        meet ``condition`` when one is given (what a principal may see)."""
        if not parents:
            return {}
        model = target_endpoint.model
        if self.many:
            ids = [parent.id for parent in parents]
            grouped: dict[int, list] = defaultdict(list)
            for row in _rows_where(target_endpoint, self.foreign_key, ids, condition):
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


def _rows_where(endpoint, column: peewee.Field, values: list[Any], condition: Any) -> list[peewee.Model]:
    if condition is None:
        return endpoint.rows_where(column, values)  # compiled once, the common case
    if not values:
        return []
    model = endpoint.model
    return endpoint.rows(endpoint.select().where(column.in_(values) & condition).order_by(model.id))
