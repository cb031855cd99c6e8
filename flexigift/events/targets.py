"""Where a webhook may point: http(s) only, no credentials in the URL, and (unless
``FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE=on``) no loopback, link-local, private or
otherwise internal address, so a subscription cannot make the server reach into
its own network (server-side request forgery). The check runs when a
subscription is written and again before each delivery (a name can be
re-pointed)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


def target_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not be a webhook target (``None`` when it may)."""
    if len(url) > MAX_URL:
        return f"is longer than {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials (user:password@): sign deliveries with the secret instead"
    if not parts.hostname:
        return "names no host"
    if parts.fragment:
        return "must not have a #fragment"
    if allow_private:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or 443,
                                                               type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        return f"names a host that does not resolve ({parts.hostname})"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return (f"resolves to {ip}, a loopback, link-local or private address "
                    "(set FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE=on to allow it)")
    return None
