"""Paging links: self, first, prev, next and last, absolute and keeping every
other query parameter; the same links as an RFC 8288 ``Link`` header, as long as
they fit in :data:`MAX_LINK_HEADER` bytes (a query of thousands of characters would
make it longer than proxies take: then the header is left out, and the links travel
in the body alone).
"""
from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from representations import Link

TITLES = {
    "self": "This page", "first": "First page", "prev": "Previous page",
    "next": "Next page", "last": "Last page",
}


#: The parameters a paging link sets itself; every other one is kept as the request sent it.
PAGING = frozenset({"limit", "offset", "after", "before"})


def kept_query(args: MultiDict) -> str:
    """The request's other parameters, in order, encoded once for all the links of a page."""
    return urlencode([(key, value) for key, value in args.items(multi=True) if key not in PAGING])


def page_url(base_url: str, kept: str, limit: int, offset: int, **seek: int) -> str:
    """``base_url`` with the ``kept`` parameters (:func:`kept_query`), then ``limit``,
    ``offset`` and a seek (``after`` or ``before`` an id): numbers, written as they are."""
    paging = f"limit={int(limit)}&offset={int(offset)}"
    for name, id in seek.items():
        paging += f"&{name}={int(id)}"
    return f"{base_url}?{kept}&{paging}" if kept else f"{base_url}?{paging}"


def page_links(base_url: str, args: MultiDict, limit: int, offset: int,
               total: int | None, has_next: bool, has_prev: bool | None = None,
               first_id: int | None = None, last_id: int | None = None) -> dict[str, Link]:
    """The paging links of one page; prev and next only where such a page exists.

    With the ids of the page's first and last items, next and prev walk by key
    (``after``/``before`` that id), so any page of a walk costs what the first
    does; ``offset`` rides along to say where the page stands. ``last`` is there
    when the total is known.
    """
    kept = kept_query(args)
    links = {"self": Link(page_url(base_url, kept, limit, offset, **_seek_of(args)), TITLES["self"]),
             "first": Link(page_url(base_url, kept, limit, 0), TITLES["first"])}
    if has_prev is None:
        has_prev = offset > 0
    if has_prev:
        previous = max(offset - limit, 0) if limit else 0
        seek = {"before": first_id} if first_id is not None and limit else {}
        links["prev"] = Link(page_url(base_url, kept, limit, previous, **seek), TITLES["prev"])
    if has_next and limit:
        seek = {"after": last_id} if last_id is not None else {}
        links["next"] = Link(page_url(base_url, kept, limit, offset + limit, **seek), TITLES["next"])
    if total is not None:
        last = ((total - 1) // limit) * limit if total and limit else 0
        links["last"] = Link(page_url(base_url, kept, limit, last), TITLES["last"])
    return links


def _seek_of(args: MultiDict) -> dict[str, int]:
    """The seek the request itself made (kept in its self link), if it was a valid one."""
    for name in ("after", "before"):
        value = args.get(name)
        if value is not None and value.isascii() and value.isdigit():
            return {name: int(value)}
    return {}


#: The longest ``Link`` header sent; nginx, for one, refuses an upstream's headers past 4 or 8 KiB.
MAX_LINK_HEADER = 4096


def link_header(links: dict[str, Link]) -> str | None:
    """The RFC 8288 ``Link`` header for the paging links (self excluded); ``None`` when
    it would be longer than :data:`MAX_LINK_HEADER` (some rels alone would mislead:
    a missing ``next`` says there is no next page)."""
    value = ", ".join(f'<{link.href}>; rel="{rel}"' for rel, link in links.items() if rel != "self")
    return value if len(value) <= MAX_LINK_HEADER else None
