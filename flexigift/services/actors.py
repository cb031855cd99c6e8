"""Who is making the current change, and whether card codes may be shown to them.

Both are set once per request, from the request's principal, and read by the
services that record changes (the ledger's actor, the audit trail) and word
their messages. Outside a request (the command line) they are set by the
command. The defaults are the safe ones: an unnamed system actor, and codes
masked.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Actor:
    """What the audit trail records of whoever made a change."""

    name: str
    role: str
    token_id: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role}


SYSTEM = Actor("system", "admin")
_actor: ContextVar[Actor] = ContextVar("flexigift_actor", default=SYSTEM)
_shows_codes: ContextVar[bool] = ContextVar("flexigift_shows_codes", default=False)

#: The mask's visible end: at most this many characters of a code…
SHOWN = 4
#: …and never so many that fewer than this many stay hidden (short codes show less).
HIDDEN_AT_LEAST = 6
MASK = "••••••"


def current_actor() -> Actor:
    return _actor.get()


def mask(code: str) -> str:
    """``code`` masked to its last characters: ``gap-gc-005`` → ``••••••-005``."""
    shown = max(0, min(SHOWN, len(code) - HIDDEN_AT_LEAST))
    return MASK + (code[-shown:] if shown else "")


def shown_code(code: str | None) -> str | None:
    """A card code as the current principal may see it: whole, or masked."""
    if code is None or _shows_codes.get():
        return code
    return mask(code)


def codes_shown() -> bool:
    return _shows_codes.get()


def begin(actor: Actor, shows_codes: bool) -> None:
    """Set the actor and code visibility for what follows in this context (one request)."""
    _actor.set(actor)
    _shows_codes.set(shows_codes)


def end() -> None:
    """Back to the safe defaults (after a request)."""
    _actor.set(SYSTEM)
    _shows_codes.set(False)


@contextmanager
def revealing_codes() -> Iterator[None]:
    """Codes whole inside the block, whoever asks (for what is stored, never shown)."""
    token = _shows_codes.set(True)
    try:
        yield
    finally:
        _shows_codes.reset(token)


@contextmanager
def acting_as(actor: Actor, shows_codes: bool = True) -> Iterator[None]:
    """Make changes as ``actor`` inside the block (for commands)."""
    actor_token, codes_token = _actor.set(actor), _shows_codes.set(shows_codes)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _shows_codes.reset(codes_token)
