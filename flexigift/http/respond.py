"""Turning an internal representation into a response, in the negotiated type."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Response as FlaskResponse, g

import representations
from representations import Renderer, Resource, error_document
from representations.html import BLANK_MARKER  # what our GET forms add: "blank means not given"
from representations.negotiation import FORMAT_NAMES

from ..errors import ApiError, NotAcceptable
from .conditional import conditional, etag
from .context import current_g, current_request
from .urls import Urls, request_root


#: A Location werkzeug's ``iri_to_uri`` leaves as it is (lower-case host, unreserved path):
#: ours, on every 201.
_PLAIN_LOCATION = re.compile(r"https?://[a-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~/\-]*)?")


class Response(FlaskResponse):
    """Flask's response, without the copy of its headers on the way out when there is
    nothing to fix in them (the object answers one request and is then dropped)."""

    def get_wsgi_headers(self, environ):
        if self.status_code in (200, 201) and self.is_sequence:
            headers = self.headers
            length = False
            for name, value in headers:
                name = name.lower()
                if name == "content-length":
                    length = True
                elif name == "content-location" or (name == "location" and not _PLAIN_LOCATION.fullmatch(value)):
                    break
            else:
                if length:
                    return headers
        return super().get_wsgi_headers(environ)


#: ``?format=<name>`` (:data:`FORMAT_NAMES`) names a media type in a link.
FORMAT_PARAMETER = "format"


def _format_asked(environ) -> str | None:
    """The media type ``?format=`` names, when the query string has one."""
    query = environ.get("QUERY_STRING", "")
    if "format=" not in query:
        return None
    values = current_request().args.getlist(FORMAT_PARAMETER)
    if not values:
        return None
    if len(values) > 1 or (values[0] not in FORMAT_NAMES and values[0] not in FORMAT_NAMES.values()):
        raise NotAcceptable(
            f"Query parameter format must be given once, as one of {', '.join(FORMAT_NAMES)} "
            "(or a media type we make); without it the Accept header decides.", FORMAT_PARAMETER)
    return FORMAT_NAMES.get(values[0], values[0])


def negotiated_renderer() -> Renderer:
    """The renderer ``?format=`` or else the Accept header asks for (406 when there is none)."""
    ctx = current_g()
    renderer = ctx.get("renderer")
    if renderer is None:
        environ = current_request().environ
        accept = _format_asked(environ) or environ.get("HTTP_ACCEPT")
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
    ctx = current_g()
    renderer = ctx.get("renderer") or negotiated_renderer()
    body = renderer.render(resource if resource.curies else with_curies(resource), ctx.get("page_context"))
    response = Response(body, status=status, content_type=renderer.content_type)
    response.headers.add("Vary", "Accept")  # added, not passed in: werkzeug would check the list is no mapping
    if headers:
        response.headers.update(headers)
    if status in (200, 201):
        req = current_request()
        if req.method in ("GET", "HEAD"):
            response = conditional(response, renderer, req, body)
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


def error_response(error: ApiError, curie=None, actions=None) -> Response:
    """Render an error; if the client accepts nothing we make, use the default type.
    ``actions`` (the refused form, filled in again) show where actions are shown."""
    try:
        renderer = negotiated_renderer()
    except NotAcceptable:
        renderer = representations.RENDERERS[0]
    document = error_document(error.errors())
    document.links.update(error.links)
    if actions and renderer.media_type == "text/html":
        document.actions = list(actions)
    if curie is not None:
        document.curies = (curie,)
    response = Response(renderer.render(document, g.get("page_context")), status=error.status,
                        content_type=renderer.content_type)
    response.headers["Vary"] = "Accept"
    response.headers.update(error.headers)
    return response


#: The bodies a browser's form sends.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def see_other_after_form(response: Response) -> Response:
    """Post/Redirect/Get: a browser's successful form post is answered 303 See Other,
    to the new resource (a create or an action), the changed one (PUT, PATCH) or its
    collection (DELETE), so reloading the page shows it instead of posting again.
    Clients that negotiate any other type than HTML get the answer itself."""
    if response.status_code not in (200, 201, 204):
        return response
    req = current_request()
    if req.method != "POST" and req.environ.get("flexigift.method_override") != "form":
        return response
    renderer = current_g().get("renderer")
    if renderer is None or renderer.media_type != "text/html" or req.mimetype not in FORM_TYPES:
        return response
    here = Urls(request_root()).here()
    if response.status_code == 201 and response.headers.get("Location"):
        target = response.headers["Location"]
    elif response.status_code == 200 and req.method in ("PUT", "PATCH"):
        target = here
    elif response.status_code == 204 and req.method == "DELETE":
        target = here.rstrip("/").rpartition("/")[0] or here
    else:
        return response
    redirect = Response(status=303, headers=[("Location", target), ("Vary", "Accept")])
    del redirect.headers["Content-Type"]
    for name in ("Set-Cookie", "Cache-Control"):
        for value in response.headers.getlist(name):
            redirect.headers.add(name, value)
    return redirect




def without_blank_fields(req) -> Response | None:
    """For a GET form's query (marked by :data:`BLANK_MARKER`), 303 See Other to the same
    URL without the blank fields and the marker, so the address shows the query as
    written; ``None`` for any other request."""
    if req.method not in ("GET", "HEAD") or "=".join(BLANK_MARKER) not in req.environ.get("QUERY_STRING", ""):
        return None
    kept = [(name, value) for name, value in req.args.items(multi=True)
            if value != "" and (name, value) != BLANK_MARKER]
    target = Urls(request_root()).here() + (f"?{urlencode(kept)}" if kept else "")
    redirect = Response(status=303, headers=[("Location", target), ("Vary", "Accept")])
    del redirect.headers["Content-Type"]
    return redirect
