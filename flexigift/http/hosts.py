"""The ``Host`` header, checked against the names the server answers to.

A request naming another host is refused before anything else runs, and no
link or ``Location`` is ever built from it: that stops DNS rebinding (a hostile
page whose name resolves to a developer's 127.0.0.1) and poisoned links.
"""
from __future__ import annotations


def host_name(host: str) -> str:
    """The name part of a ``Host`` value: ``Example.com:3000`` → ``example.com``, ``[::1]:80`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def host_allowed(host: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` (a Host header) names one of ``allowed``.

    An entry ``*`` allows any host; ``.example.com`` allows example.com and its
    subdomains; anything else is an exact name.
    """
    if not host:
        return False
    name = host_name(host)
    if not name:
        return False
    for entry in allowed:
        if entry == "*" or entry == name:
            return True
        if entry.startswith(".") and (name == entry[1:] or name.endswith(entry)):
            return True
    return False
