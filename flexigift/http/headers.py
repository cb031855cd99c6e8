"""Protective headers on every response.

- ``X-Content-Type-Options: nosniff`` everywhere, so a browser never reads a
  JSON or XML body as HTML;
- on HTML, a strict ``Content-Security-Policy`` (our own stylesheet, no script,
  forms only to ourselves, never in a frame) and no referrer to other sites;
- a response to an authenticated request is ``Cache-Control: private``: no
  shared cache keeps what one token was shown for another to read.
"""
from __future__ import annotations

from flask import Response

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


_HTML_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                 ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))


def protect(response: Response, authenticated: bool) -> Response:
    """``response`` with the headers above (nothing earlier sets them, so they are added)."""
    headers = response.headers
    headers.add("X-Content-Type-Options", "nosniff")
    if (headers.get("Content-Type") or "").startswith("text/html"):
        for name, value in _HTML_HEADERS:
            headers.set(name, value)
    if authenticated and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private"
    return response
