"""Progress of long work, for whoever is watching.

The work (inserting 100,000 cards, say) calls :func:`advance` as it goes; a
listener installed with :func:`reporting` hears of it, and nothing happens
when none is (a request served over HTTP). The command line installs a
progress bar when its output is a terminal.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

Listener = Callable[[int], None]

_listener: ContextVar[Listener | None] = ContextVar("flexigift_progress", default=None)


@contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    """Have ``listener`` hear of the steps the work inside makes."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def advance(steps: int) -> None:
    """``steps`` more done (rows written, …)."""
    listener = _listener.get()
    if listener is not None:
        listener(steps)
