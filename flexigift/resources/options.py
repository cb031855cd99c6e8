"""OPTIONS on every URL: the ``Allow`` header and a body, in the negotiated
type, listing the methods and the fields each write accepts.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, Response, request

from representations import Link, Resource

from ..errors import NotFound
from ..registry import current_registry
from .forms import describe_fields
from .presenter import current_presenter


def routed_methods(app: Flask) -> list[str]:
    """Every method the current URL's route takes (HEAD with GET, OPTIONS always)."""
    adapter = app.url_map.bind_to_environ(request.environ)
    methods = set(adapter.allowed_methods(request.path)) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def check_exists() -> None:
    """404 for OPTIONS on the URL of a row that does not exist (or that the principal may
    not see), as GET there would answer: ``/gift_cards/7``, ``/holds/7/capture``…"""
    pk = (request.view_args or {}).get("id")
    if not isinstance(pk, int):
        return
    endpoint = current_registry().endpoints.get(request.path.strip("/").split("/")[0])
    if endpoint is None:
        return
    endpoint.lookup(pk)
    from ..auth.principal import current_principal
    from ..auth.scopes import MODELS

    if endpoint.kind in MODELS and pk not in current_principal().scope.visible(endpoint.kind, [pk]):
        raise NotFound(f"There is no {endpoint.label} with id {pk}.")


def options_response(app: Flask, may: Callable[[str], bool] = lambda method: True) -> Response:
    """The answer to OPTIONS on the current (routed) URL: the methods ``may`` allows."""
    check_exists()
    methods = [method for method in routed_methods(app) if method == "OPTIONS" or may(method)]
    writes = current_registry().writes.get(request.endpoint, {})
    presenter = current_presenter()
    document = Resource(
        kind="options", title=f"Methods of {request.path}",
        properties={
            "methods": methods,
            "fields": {method: describe_fields(schema) for method, schema in writes.items()
                       if method in methods},
        },
        links={"self": Link(presenter.urls.here())},
    )
    response = presenter.respond(document)
    response.headers["Allow"] = ", ".join(methods)
    return response
