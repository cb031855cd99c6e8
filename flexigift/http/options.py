"""OPTIONS on every URL: the ``Allow`` header and a body, in the negotiated
type, listing the methods and the fields each write accepts.
"""
from __future__ import annotations

from flask import Flask, Response, request
from marshmallow import Schema

from representations import Link, Resource

from .respond import respond

WRITES_KEY = "flexigift_writes"


def declare_writes(app: Flask, view: str, writes: dict[str, Schema]) -> None:
    """Say which schema each write method of the view named ``view`` accepts."""
    app.extensions.setdefault(WRITES_KEY, {})[view] = writes


def allowed_methods(app: Flask) -> list[str]:
    adapter = app.url_map.bind_to_environ(request.environ)
    methods = set(adapter.allowed_methods(request.path)) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def options_response(app: Flask) -> Response:
    """The answer to OPTIONS on the current (routed) URL."""
    from ..resources.forms import describe_fields

    methods = allowed_methods(app)
    writes = app.extensions.get(WRITES_KEY, {}).get(request.endpoint, {})
    document = Resource(
        kind="options", title=f"Methods of {request.path}",
        properties={
            "methods": methods,
            "fields": {method: describe_fields(schema) for method, schema in writes.items()
                       if method in methods},
        },
        links={"self": Link(request.base_url)},
    )
    response = respond(document)
    response.headers["Allow"] = ", ".join(methods)
    return response
