"""Letting HTML forms (which only GET and POST) send PUT, PATCH and DELETE.

A POST whose form body has ``_method`` (as our HTML pages write it), or that
carries ``X-HTTP-Method-Override``, is dispatched as that method. The
environment records which (``flexigift.method_override``: ``form`` or
``header``): a form's override counts only with a valid CSRF token, which the
guard checks, since any page on the web can post a form.
"""
from __future__ import annotations

import io
from urllib.parse import parse_qs

OVERRIDABLE = {"PUT", "PATCH", "DELETE"}
FORM = "application/x-www-form-urlencoded"


class MethodOverride:
    """WSGI middleware: rewrite ``REQUEST_METHOD`` for an overridden POST."""

    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            method, source = self._override(environ)
            if method in OVERRIDABLE:
                environ["REQUEST_METHOD"] = method
                environ["flexigift.method_override"] = source
        return self.app(environ, start_response)

    def _override(self, environ) -> tuple[str | None, str | None]:
        """The method asked for, and where (``header`` or ``form``)."""
        header = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE")
        if header:
            return header.strip().upper(), "header"
        if not environ.get("CONTENT_TYPE", "").lower().startswith(FORM):
            return None, None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None, None
        if length <= 0 or length > self.max_body_bytes:
            return None, None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get("_method")
        return (values[0].upper(), "form") if values else (None, None)
