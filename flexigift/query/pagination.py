"""Paging links: self, first, prev, next and last, absolute and keeping every
other query parameter; the same links as an RFC 8288 ``Link`` header.
"""
from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from representations import Link

TITLES = {
    "self": "This page", "first": "First page", "prev": "Previous page",
    "next": "Next page", "last": "Last page",
}


def page_url(base_url: str, args: MultiDict, limit: int, offset: int) -> str:
    """``base_url`` with ``args``, ``limit`` and ``offset`` set (other parameters kept in order)."""
    query = [(key, value) for key, value in args.items(multi=True) if key not in ("limit", "offset")]
    query += [("limit", str(limit)), ("offset", str(offset))]
    return f"{base_url}?{urlencode(query)}"


def page_links(base_url: str, args: MultiDict, limit: int, offset: int,
               total: int | None, has_next: bool) -> dict[str, Link]:
    """The paging links of one page; prev and next only where such a page exists."""
    targets = {"self": offset, "first": 0}
    if offset > 0:
        targets["prev"] = max(offset - limit, 0) if limit else 0
    if has_next and limit:
        targets["next"] = offset + limit
    if total is not None:
        targets["last"] = ((total - 1) // limit) * limit if total and limit else 0
    return {rel: Link(page_url(base_url, args, limit, target), TITLES[rel])
            for rel, target in targets.items()}


def link_header(links: dict[str, Link]) -> str:
    """The RFC 8288 ``Link`` header for the paging links (self excluded)."""
    return ", ".join(f'<{link.href}>; rel="{rel}"' for rel, link in links.items() if rel != "self")
