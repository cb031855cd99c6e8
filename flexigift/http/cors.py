"""CORS for the origins configured (``FLEXIGIFT_CORS_ORIGINS``), and no other.

A browser client hosted elsewhere (the HAL Browser, HAL Explorer) sends a
preflight before any request with a token; an allowed origin gets the methods
and headers it may use, and every response to it exposes the headers a
hypermedia client reads. Credentials are bearer tokens in a header, never
cookies, so ``Access-Control-Allow-Credentials`` is never sent.
"""
from __future__ import annotations

from flask import Response

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Accept, Content-Type, If-Match, If-None-Match, Idempotency-Key"
EXPOSE_HEADERS = "ETag, Link, Location, X-Total-Count, X-Total-Count-More-Than, Retry-After, Allow, Idempotent-Replayed"
MAX_AGE = "600"


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    return bool(origin) and origin.lower() in allowed


def is_preflight(method: str, headers) -> bool:
    return method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers


def preflight(origin: str) -> Response:
    """The answer to an allowed origin's preflight."""
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no type
    response.headers.update({
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
        "Vary": "Origin",
    })
    return response


def expose(response: Response, origin: str) -> None:
    """Let the allowed ``origin`` read ``response``."""
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    response.vary.add("Origin")
