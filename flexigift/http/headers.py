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


def protect(response: Response, authenticated: bool) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
    if authenticated and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private"
    return response
