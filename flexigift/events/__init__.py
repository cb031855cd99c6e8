"""Events and webhooks: every change that matters is written as an event in the
transaction of the change (a transactional outbox, :mod:`.outbox`), with a
delivery owed to each subscription that wants it; :mod:`.deliverer` POSTs the
deliveries after commit, signed (:mod:`.signing`), in order per subscription,
retrying with backoff.

Services write events; resources only read them.
"""
from .outbox import emit, emit_many, issuer_of, record_event, set_representer
from .types import EVENT_TYPES, LEDGER_TYPES, change_type, matches

__all__ = ["EVENT_TYPES", "LEDGER_TYPES", "change_type", "emit", "emit_many", "issuer_of", "matches",
           "record_event", "set_representer"]
