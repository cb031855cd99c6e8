"""When the API may be served, and with what: the rules of SPEC section 6.

A server on a loopback address is a development server: auth is off unless
asked for, and it says so. Anywhere else (and through ``wsgi.py``) auth is
required unless switched off on purpose with ``FLEXIGIFT_AUTH=off``.
"""
from __future__ import annotations

import ipaddress
import socket

from flask import Flask

from .app import create_app
from .config import Config

#: Token authentication (SPEC 6) is not built yet; until it is, a server that
#: must authenticate refuses to start rather than serve without auth.
AUTH_AVAILABLE = False


class RefusedToServe(RuntimeError):
    """Serving as asked would expose the API without the protection it needs."""


def is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def check_auth(auth_wanted: bool) -> None:
    if auth_wanted and not AUTH_AVAILABLE:
        raise RefusedToServe(
            "Authentication is required here, but API tokens are not available in this "
            "version of Flexigift. Serve on a loopback address for development, or set "
            "FLEXIGIFT_AUTH=off (or --no-auth) to serve without authentication on purpose."
        )


def production_app() -> Flask:
    """The app for a WSGI server: auth as configured (on unless FLEXIGIFT_AUTH=off)."""
    config = Config.from_env()
    check_auth(config.auth)
    return create_app(config)
