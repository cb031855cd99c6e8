"""The API described for tools: ``GET /openapi.json`` (relation ``service-desc``) and
``GET /postman.json`` (``fg:postman``), both linked from ``GET /``, both made from
the application itself (:mod:`flexigift.openapi`, :mod:`flexigift.postman`) once
per API root and kept, and readable without a token: they hold no data.
"""
from __future__ import annotations

import orjson
from flask import Flask, Response

from ..http.context import current_app
from ..openapi import openapi_document
from ..postman import postman_collection
from ..registry import Relation, registry_of
from .presenter import current_urls

CACHE = "flexigift_descriptions"


def _document(kind: str, build) -> Response:
    app = current_app()
    root = current_urls().home().rstrip("/")
    cache = app.extensions.setdefault(CACHE, {})
    body = cache.get((kind, root))
    if body is None:
        body = cache[(kind, root)] = orjson.dumps(build(app, root), option=orjson.OPT_INDENT_2)
    response = Response(body, content_type="application/json")
    response.headers["Vary"] = "Accept"
    return response


def openapi_json() -> Response:
    return _document("openapi", openapi_document)


def postman_json() -> Response:
    return _document("postman", lambda app, root: postman_collection(root))


def register_descriptions(app: Flask) -> None:
    app.add_url_rule("/openapi.json", "public_openapi", openapi_json)
    app.add_url_rule("/postman.json", "public_postman", postman_json)
    registry_of(app).define_relation(Relation(
        "postman", "Postman collection",
        "A Postman Collection (v2.1) of this API: a folder per resource, the tutorials' example "
        "bodies, baseUrl and token variables; import it into Postman or run it with newman."))
