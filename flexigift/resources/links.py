"""Reading links that clients send back (``{"_links": {"fg:user": {"href": …}}}``)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from ..errors import ValidationFailed


def linked_id(links: Any, rels: tuple[str, ...], view: str) -> tuple[bool, int | None]:
    """Whether ``links`` sets one of ``rels``, and the id of the item its href names.

    The href must be a URL of this API that routes to ``view``; ``null`` unsets the link.
    """
    if not isinstance(links, dict):
        if links is None:
            return False, None
        raise ValidationFailed.single("_links", "Must be an object of link relations.")
    for rel in rels:
        if rel not in links:
            continue
        link = links[rel]
        if link is None:
            return True, None
        href = link.get("href") if isinstance(link, dict) else None
        if not isinstance(href, str):
            raise ValidationFailed.single(f"_links.{rel}", "Must be a link object with an href, or null.")
        return True, _route(href, rel, view)
    return False, None


def _route(href: str, rel: str, view: str) -> int:
    parts = urlsplit(href)
    adapter = current_app.url_map.bind_to_environ(request.environ)
    path = parts.path
    script_root = request.script_root
    if script_root and path.startswith(script_root):
        path = path[len(script_root):]
    try:
        endpoint, args = adapter.match(path or "/", method="GET")
    except HTTPException:
        endpoint, args = None, {}
    if endpoint != view or "id" not in args:
        raise ValidationFailed.single(f"_links.{rel}", f"{href!r} is not the URL of a {rel.split(':')[-1]}.")
    return args["id"]
