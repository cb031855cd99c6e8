"""Conditional requests: an ETag on every GET, 304 for If-None-Match, 412 for a
stale If-Match.

An ETag is ``"<digest of the body>.<media type>"``: strong and different per
media type, as RFC 9110 wants; the media type part is a short digest of the
media type's name, so registering another renderer changes no tag. The body's
digest is keyed with a secret of the server's, so a tag says nothing of the
body to anyone who has not seen it (not even of a low-entropy card code in it).
To check an If-Match, the current state of the resource is rendered with the
renderer the tag names and digested again, so a client may fetch as HAL and
write as JSON.
"""
from __future__ import annotations

import functools
import hashlib

from flask import Response, g, request

import representations
from representations import Renderer, Resource

from ..errors import PreconditionFailed
from .context import current_app as _current_app, current_request

KEYS = "flexigift_keys"


@functools.lru_cache(maxsize=64)
def _key(media_type: str) -> str:
    return hashlib.blake2b(media_type.encode(), digest_size=3).hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes):
    """A digest that has taken in ``secret`` as its key and nothing else yet (copied per tag:
    a copy costs less than taking in the key again)."""
    return hashlib.blake2b(digest_size=12, key=secret)


def etag(body: bytes, renderer: Renderer) -> str:
    """The (unquoted) entity tag of ``body`` as ``renderer`` made it."""
    digest = _keyed(_current_app().extensions[KEYS]["etag"]).copy()
    digest.update(body)
    return f"{digest.hexdigest()}.{_key(renderer.media_type)}"


def _renderer_for_key(key: str) -> Renderer | None:
    for renderer in representations.RENDERERS:
        if _key(renderer.media_type) == key:
            return renderer
    return None


def check_if_match(current: Resource) -> None:
    """412 unless ``If-Match`` (when sent) names the current state of the resource."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    if header.strip() == "*":
        return
    for tag in request.if_match.as_set(include_weak=False):
        _, _, key = tag.rpartition(".")
        renderer = _renderer_for_key(key)
        if renderer is not None and etag(renderer.render(current, g.get("page_context")), renderer) == tag:
            return
    raise PreconditionFailed(
        "The resource has changed since you fetched it (If-Match does not match its "
        "current ETag); GET it again and retry with the new ETag.", logref="stale",
    )


def conditional(response: Response, renderer: Renderer, req=None, body: bytes | None = None) -> Response:
    """Tag a GET response (whose ``body`` the caller may pass, to spare reading it back)
    and answer 304 when the client's copy is current."""
    req = req if req is not None else current_request()
    tag = etag(response.get_data() if body is None else body, renderer)
    response.set_etag(tag)
    if req.method in ("GET", "HEAD") and "HTTP_IF_NONE_MATCH" in req.environ and req.if_none_match.contains(tag):
        not_modified = Response(status=304)
        not_modified.set_etag(tag)
        not_modified.headers["Vary"] = "Accept"
        return not_modified
    return response
