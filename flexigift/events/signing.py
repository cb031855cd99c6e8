"""Signing a delivery: ``Flexigift-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the subscription's secret>``. A receiver recomputes it,
compares in constant time, and refuses an old ``t`` (a replay)."""
from __future__ import annotations

import hashlib
import hmac
import time


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Flexigift-Signature`` header value of ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, made within ``tolerance`` seconds."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
