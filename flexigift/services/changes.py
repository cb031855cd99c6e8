"""The audit trail: every change of a resource (created, updated, deleted, a
status change, a card linked or unlinked) is recorded with who made it and
when, in the same database transaction as the change itself.

Money moves are not recorded here: each is a ledger entry, which carries its
own actor.
"""
from __future__ import annotations

from typing import Any, Iterable

from representations.encoding import dumps, json_value

from ..models import Change, utcnow
from .actors import current_actor
from .bulk import db_row, insert_rows

#: Properties not worth recording: set once by the server, or changed by every write.
VOLATILE = frozenset({"id", "date_created", "date_modified"})

_FIELDS = (Change.resource, Change.resource_id, Change.action, Change.changes, Change.actor_name,
           Change.actor_role, Change.token_id, Change.date_created)


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    """``{property: [before, after]}`` for each property that differs (``None`` when absent)."""
    before, after = before or {}, after or {}
    return {
        name: [before.get(name), after.get(name)]
        for name in dict.fromkeys([*before, *after])
        if name not in VOLATILE and before.get(name) != after.get(name)
    }


def record(resource: str, resource_id: int, action: str, changes: dict[str, Any] | None = None) -> None:
    """Record one change of the resource ``resource`` (a kind, like ``gift_card``) with ``resource_id``."""
    record_many(resource, [resource_id], action, changes)


def record_many(resource: str, resource_ids: Iterable[int], action: str,
                changes: dict[str, Any] | None = None) -> None:
    """The same change of several resources of one kind, in bulk."""
    actor = current_actor()
    text = None if changes is None else dumps(json_value(changes)).decode()
    shared = db_row(_FIELDS[2:], (action, text, actor.name, actor.role, actor.token_id, utcnow()))
    rows = [(resource, resource_id, *shared) for resource_id in resource_ids]
    if rows:
        insert_rows(Change, _FIELDS, rows)
