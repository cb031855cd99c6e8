"""Turning an internal representation into a response, in the negotiated type."""
from __future__ import annotations

from flask import Response as FlaskResponse, g

import representations
from representations import Renderer, Resource, error_document

from ..errors import ApiError, NotAcceptable
from .conditional import conditional, etag
from .context import current_g, current_request
from .urls import Urls, request_root


class Response(FlaskResponse):
    """Flask's response, without the copy of its headers on the way out when there is
    nothing to fix in them (the object answers one request and is then dropped)."""

    def get_wsgi_headers(self, environ):
        if self.status_code in (200, 201) and self.is_sequence:
            headers = self.headers
            names = {name.lower() for name, _ in headers}
            if "content-length" in names and "location" not in names and "content-location" not in names:
                return headers
        return super().get_wsgi_headers(environ)


def negotiated_renderer() -> Renderer:
    """The renderer this request's Accept header asks for (406 when there is none)."""
    ctx = current_g()
    renderer = ctx.get("renderer")
    if renderer is None:
        accept = current_request().environ.get("HTTP_ACCEPT")
        renderer = representations.renderer_for(accept)
        if renderer is None:
            supported = ", ".join(representations.supported_media_types())
            raise NotAcceptable(
                f"None of the media types in Accept ({accept}) is "
                f"available. Supported media types: {supported}."
            )
        ctx.renderer = renderer
    return renderer


def with_curies(resource: Resource) -> Resource:
    """``resource`` as the outermost of a document: it carries our curie."""
    if not resource.curies:
        resource.curies = (Urls(request_root()).curie(),)
    return resource


def respond(resource: Resource, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Render ``resource`` for this request; a success gets its ETag (a GET maybe a 304)."""
    renderer = negotiated_renderer()
    body = renderer.render(with_curies(resource), current_g().get("page_context"))
    response = Response(body, status=status, headers=[("Vary", "Accept")], content_type=renderer.content_type)
    if headers:
        response.headers.update(headers)
    if status in (200, 201):
        req = current_request()
        if req.method in ("GET", "HEAD"):
            response = conditional(response, renderer, req)
        else:
            # A write's answer is the new state: its tag lets the client's next
            # write carry If-Match without fetching the resource again.
            response.set_etag(etag(body, renderer))
    return response


def empty(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]  # no body, so no type
    response.headers["Vary"] = "Accept"
    if headers:
        response.headers.update(headers)
    return response


def error_response(error: ApiError, curie=None) -> Response:
    """Render an error; if the client accepts nothing we make, use the default type."""
    try:
        renderer = negotiated_renderer()
    except NotAcceptable:
        renderer = representations.RENDERERS[0]
    document = error_document(error.errors())
    document.links.update(error.links)
    if curie is not None:
        document.curies = (curie,)
    response = Response(renderer.render(document, g.get("page_context")), status=error.status,
                        content_type=renderer.content_type)
    response.headers["Vary"] = "Accept"
    response.headers.update(error.headers)
    return response
