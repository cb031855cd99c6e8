"""When and how the API may be served: the rules of SPEC section 6.

Authentication is on wherever the app is served, with one exception:
``flexigift serve`` on a loopback address is a development server, with
authentication off unless asked for (``--auth``), and says so. Through
``wsgi.py`` or on any other address it starts with authentication on;
``FLEXIGIFT_AUTH=off`` switches it off on purpose, with a warning in the log.
A setting that cannot be read stops the start with a message naming it.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from dataclasses import replace

from flask import Flask

from .app import create_app
from .config import Config, ConfigError

log = logging.getLogger("flexigift")

AUTH_OFF_WARNING = ("authentication is OFF (FLEXIGIFT_AUTH=off): anyone who can reach this "
                    "server can do anything, with every card's code in view")


def is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def serve_config(host: str, auth: bool | None, env_auth: str | None, **settings) -> Config:
    """The configuration of ``flexigift serve``: auth off by default only on a loopback address."""
    config = Config.from_env(**settings)
    if auth is None:
        auth = config.auth if (env_auth or not is_loopback(host)) else False
    return replace(config, auth=auth)


def production_app() -> Flask:
    """The app for a WSGI server: authentication on unless FLEXIGIFT_AUTH=off."""
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"flexigift: cannot start: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if not config.auth:
        log.warning(AUTH_OFF_WARNING)
    if not config.allowed_hosts and not config.public_url:
        log.warning("only requests for localhost are served: set FLEXIGIFT_ALLOWED_HOSTS (or "
                    "FLEXIGIFT_PUBLIC_URL) to the names clients use")
    return create_app(config)
