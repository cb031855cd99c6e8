"""Absolute URLs of our resources, built from the request's root URL.

Built once per request with plain string formatting: ``url_for`` for every
link of every item would cost more than the rest of a page.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import request

from representations import Curie

from .context import current_app, current_request


#: (scheme, Host, server name and port, script name) → the root URL werkzeug makes of them.
_ROOTS: dict[tuple, str] = {}


def request_root() -> str:
    """The root URL every link of this request is built from: the configured public
    URL (``FLEXIGIFT_PUBLIC_URL``, for a server behind a proxy) or the request's own,
    whose host has been checked against the allowed hosts before any view runs."""
    public = current_app().config["FLEXIGIFT"].public_url
    if public:
        return public
    req = current_request()
    environ = req.environ
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
           environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"))
    root = _ROOTS.get(key)
    if root is None:
        root = req.url_root
        if len(_ROOTS) >= 64:
            _ROOTS.clear()  # a few roots recur; never grow with what clients send
        _ROOTS[key] = root
    return root


class Urls:
    """The URL layout of the API, rooted at ``root`` (scheme, host and script root)."""

    def __init__(self, root: str):
        self.root = root.rstrip("/")

    def here(self) -> str:
        """The current request's URL, without its query string, under this root."""
        return f"{self.root}{request.path}"

    def home(self) -> str:
        return f"{self.root}/"

    def collection(self, name: str, **query) -> str:
        url = f"{self.root}/{name}"
        return f"{url}?{urlencode(query)}" if query else url

    def item(self, name: str, id: int) -> str:
        return f"{self.root}/{name}/{id}"

    def sub(self, name: str, id: int, part: str) -> str:
        return f"{self.root}/{name}/{id}/{part}"

    def rel(self, rel: str) -> str:
        return f"{self.root}/rels/{rel}"

    def curie(self) -> Curie:
        curie = _CURIES.get(self.root)
        if curie is None:
            if len(_CURIES) >= 64:
                _CURIES.clear()  # as _ROOTS: a few roots recur
            curie = _CURIES[self.root] = Curie("fg", f"{self.root}/rels/{{rel}}")
        return curie


#: root → its curie (frozen, so one serves every request on that root).
_CURIES: dict[str, Curie] = {}
