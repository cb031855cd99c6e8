"""Reading collection pages and errors in every media type, and making data for them.

A collection page is read into one shape whatever the media type, so a test
states a behaviour once and runs it in HAL+JSON, HAL+XML, Siren and plain
JSON: :class:`Page` (paging properties, links, the ``Link`` and
``X-Total-Count`` headers, the items) and :class:`Item` (properties, links,
embedded resources). Relations are shortened to their name (``fg:user`` and
``http://…/rels/user`` both read ``user``). Plain JSON has no links in its
body, so a plain JSON page's links are read from its ``Link`` header.

Every body is parsed strictly: HAL+XML with lxml, Siren validated against
``tests/schemas/siren.schema.json``.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from lxml import etree

HAL = "application/hal+json"
HAL_XML = "application/hal+xml"
SIREN = "application/vnd.siren+json"
PLAIN = "application/json"
#: The media types a collection is tested in; hypermedia ones carry links in the body.
MEDIA_TYPES = [HAL, HAL_XML, SIREN, PLAIN]
HYPERMEDIA = [HAL, HAL_XML, SIREN]
MEDIA_IDS = {HAL: "hal", HAL_XML: "hal-xml", SIREN: "siren", PLAIN: "plain"}

ORIGIN = "http://localhost:3000"
PAGING_RELS = ("first", "prev", "next", "last")

_SIREN_SCHEMA = json.loads(
    (pathlib.Path(__file__).parent / "schemas" / "siren.schema.json").read_text())
_SIREN = jsonschema.Draft202012Validator(_SIREN_SCHEMA)
_LINK_VALUE = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


def media_type_id(media_type: str) -> str:
    return MEDIA_IDS[media_type]


def short_rel(rel: str) -> str:
    """``fg:user`` and ``http://…/rels/user`` → ``user``; ``self``, ``next``… unchanged."""
    if "/rels/" in rel:
        return rel.rsplit("/rels/", 1)[1]
    prefix, sep, rest = rel.partition(":")
    return rest if sep and prefix == "fg" else rel


@dataclass
class Item:
    """One resource of a page (or embedded in one): what a client can read of it."""

    properties: dict[str, Any]
    links: dict[str, str] = field(default_factory=dict)        # short rel → href
    embedded: dict[str, list["Item"]] = field(default_factory=dict)  # short rel → items

    def text(self, name: str) -> str:
        """A property as text, the same in every media type (XML has only text)."""
        return _as_text(self.properties[name])

    @property
    def self_href(self) -> str | None:
        return self.links.get("self")


@dataclass
class Page:
    """A collection page as a client reads it, in any media type."""

    media_type: str
    properties: dict[str, Any]           # total_items, returned_items, limit, offset (not in plain JSON)
    links: dict[str, str]                # self, first, prev, next, last present in the body
    header_links: dict[str, str]         # the RFC 8288 Link header
    total_header: str | None             # X-Total-Count
    items: list[Item]

    def texts(self, name: str) -> list[str]:
        """One property of every item, as text, in page order."""
        return [item.text(name) for item in self.items]

    @property
    def paging_links(self) -> dict[str, str]:
        """first/prev/next/last: from the body in hypermedia types, from the header in plain JSON."""
        source = self.links if self.media_type in HYPERMEDIA else self.header_links
        return {rel: href for rel, href in source.items() if rel in PAGING_RELS}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def header_links(response) -> dict[str, str]:
    """The RFC 8288 ``Link`` header as rel → href (each link ``<href>; rel="x"``)."""
    value = response.headers.get("Link")
    if value is None:
        return {}
    links = {}
    for part in _split_link_header(value):
        match = _LINK_VALUE.fullmatch(part.strip())
        assert match, f"not an RFC 8288 link-value: {part!r} (in {value!r})"
        href, rel = match.groups()
        assert rel not in links, f"rel {rel} twice in {value!r}"
        links[rel] = href
    return links


def _split_link_header(value: str) -> list[str]:
    parts, depth, start = [], False, 0
    for index, char in enumerate(value):
        if char == "<":
            depth = True
        elif char == ">":
            depth = False
        elif char == "," and not depth:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return [part for part in parts if part.strip()]


def read_page(response, collection: str) -> Page:
    """Parse a collection response (``collection`` is its relation name, e.g. ``gift_cards``)."""
    media_type = response.content_type
    reader = {HAL: _hal_page, HAL_XML: _xml_page, SIREN: _siren_page, PLAIN: _plain_page}[media_type]
    properties, links, items = reader(response.body, collection)
    total = response.headers.get("X-Total-Count")
    return Page(media_type, properties, links, header_links(response), total, items)


def read_item(response) -> Item:
    """Parse a single resource (not a page) in its media type."""
    media_type, body = response.content_type, response.body
    if media_type == HAL:
        return _hal_item(json.loads(body))
    if media_type == HAL_XML:
        return _xml_item(etree.fromstring(body))
    if media_type == SIREN:
        document = json.loads(body)
        _siren_validate(document)
        return _siren_item(document)
    assert media_type == PLAIN, media_type
    return _plain_item(json.loads(body))


# -- HAL+JSON -----------------------------------------------------------------
def _hal_links(document: dict) -> dict[str, str]:
    links = {}
    for rel, value in document.get("_links", {}).items():
        if rel != "curies":
            links[short_rel(rel)] = (value[0] if isinstance(value, list) else value)["href"]
    return links


def _hal_item(document: dict) -> Item:
    properties = {key: value for key, value in document.items() if key not in ("_links", "_embedded")}
    embedded = {}
    for rel, value in document.get("_embedded", {}).items():
        values = value if isinstance(value, list) else [value]
        embedded[short_rel(rel)] = [_hal_item(child) for child in values]
    return Item(properties, _hal_links(document), embedded)


def _hal_page(body: bytes, collection: str):
    document = json.loads(body)
    assert isinstance(document, dict), document
    embedded = document.get("_embedded", {})
    assert f"fg:{collection}" in embedded, f"no fg:{collection} in _embedded: {list(embedded)}"
    items = [_hal_item(item) for item in embedded[f"fg:{collection}"]]
    properties = {key: value for key, value in document.items() if key not in ("_links", "_embedded")}
    return properties, _hal_links(document), items


# -- HAL+XML ------------------------------------------------------------------
def _xml_value(element) -> Any:
    children = list(element)
    if children and all(child.tag == "item" for child in children):
        return [child.text or "" for child in children]
    return element.text or ""


def _xml_item(element) -> Item:
    properties, links, embedded = {}, {}, {}
    for child in element:
        if child.tag == "link":
            links.setdefault(short_rel(child.get("rel")), child.get("href"))
        elif child.tag == "resource":
            embedded.setdefault(short_rel(child.get("rel")), []).append(_xml_item(child))
        elif child.tag == "property":
            properties[child.get("name")] = _xml_value(child)
        else:
            properties[child.tag] = _xml_value(child)
    if element.get("href") is not None:
        assert links.get("self") == element.get("href"), "href attribute differs from the self link"
    return Item(properties, links, embedded)


def _xml_page(body: bytes, collection: str):
    root = etree.fromstring(body)
    assert root.tag == "resource", root.tag
    page = _xml_item(root)
    assert short_rel(root.get("rel")) == collection, root.get("rel")
    items = page.embedded.pop(collection, [])
    assert not page.embedded, f"unexpected resources in the page: {list(page.embedded)}"
    properties = {key: int(value) for key, value in page.properties.items()}
    return properties, page.links, items


# -- Siren --------------------------------------------------------------------
def _siren_validate(document: dict) -> None:
    problems = sorted(_SIREN.iter_errors(document), key=lambda error: list(error.path))
    assert not problems, "\n".join(f"{list(p.path)}: {p.message}" for p in problems[:5])


def _siren_item(entity: dict) -> Item:
    links = {}
    for link in entity.get("links", []):
        for rel in link["rel"]:
            links.setdefault(short_rel(rel), link["href"])
    embedded = {}
    for child in entity.get("entities", []):
        assert "href" not in child or "properties" in child, "embedded link where a representation was expected"
        embedded.setdefault(short_rel(child["rel"][0]), []).append(_siren_item(child))
    return Item(dict(entity.get("properties", {})), links, embedded)


def _siren_page(body: bytes, collection: str):
    document = json.loads(body)
    _siren_validate(document)
    assert "collection" in document["class"] and collection in document["class"], document["class"]
    assert "entities" in document, "a Siren collection page always has entities ([] when empty)"
    page = _siren_item(document)
    items = page.embedded.pop(collection, [])
    assert not page.embedded, f"unexpected entities in the page: {list(page.embedded)}"
    return page.properties, page.links, items


# -- plain JSON ---------------------------------------------------------------
def _plain_item(document: dict) -> Item:
    properties, embedded = {}, {}
    for key, value in document.items():
        if isinstance(value, dict) and key != "metadata":
            embedded[short_rel(key)] = [_plain_item(value)]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            embedded[short_rel(key)] = [_plain_item(v) for v in value]
        elif key.startswith("fg:") and value == []:
            embedded[short_rel(key)] = []
        else:
            properties[key] = value
    return Item(properties, {}, embedded)


def _plain_page(body: bytes, collection: str):
    document = json.loads(body)
    assert isinstance(document, list), f"a plain JSON collection is an array, not {type(document)}"
    return {}, {}, [_plain_item(item) for item in document]


# -- errors -------------------------------------------------------------------
def errors_of(response) -> list[dict[str, Any]]:
    """The error entries (logref, message, field) of an error response, in any media type."""
    media_type, body = response.content_type, response.body
    if media_type == HAL:
        document = json.loads(body)
        entries = document["_embedded"]["fg:errors"]
        total = document["total"]
    elif media_type == PLAIN:
        document = json.loads(body)
        entries, total = document["errors"], document["total"]
    elif media_type == SIREN:
        document = json.loads(body)
        _siren_validate(document)
        assert "errors" in document["class"], document["class"]
        entries = [entity["properties"] for entity in document.get("entities", [])]
        total = document["properties"]["total"]
    elif media_type == HAL_XML:
        root = etree.fromstring(body)
        entries = [{child.tag: child.text for child in entry if child.tag != "link"}
                   for entry in root.findall("resource")]
        total = int(root.findtext("total"))
    else:
        raise AssertionError(f"unexpected media type {media_type}")
    assert total == len(entries) >= 1, (total, entries)
    for entry in entries:
        assert entry.get("logref") and entry.get("message"), entry
    return entries


# -- following links ----------------------------------------------------------
def path_of(href: str, script_name: str = "") -> str:
    """The path and query a WebTest client sends for an absolute ``href`` of ours."""
    prefix = ORIGIN + script_name
    assert href.startswith(prefix + "/"), f"{href!r} is not under {prefix}"
    return href[len(prefix):]


def query_of(href: str) -> list[tuple[str, str]]:
    """The decoded query parameters of a link, in order."""
    return parse_qsl(urlsplit(href).query, keep_blank_values=True)


# -- data ---------------------------------------------------------------------
def database_of(app):
    return app.extensions["flexigift_db"]


def insert_rows(app, model, rows: list[dict[str, Any]], batch: int = 200) -> None:
    """Insert many rows straight into a table (bulk data: faster than the API)."""
    db = database_of(app)
    with app.app_context(), db.connection_context(), db.atomic():
        for start in range(0, len(rows), batch):
            model.insert_many(rows[start:start + batch]).execute()


def ids_by(app, model, column) -> dict[str, int]:
    """``column`` value → id, for every row of ``model``."""
    db = database_of(app)
    with app.app_context(), db.connection_context():
        return {value: id for id, value in model.select(model.id, column).tuples()}


def set_created(app, model, column, moments: dict[str, datetime.datetime]) -> None:
    """Give rows (found by ``column``) a chosen ``date_created`` (naive UTC, as stored)."""
    db = database_of(app)
    with app.app_context(), db.connection_context(), db.atomic():
        for value, moment in moments.items():
            model.update(date_created=moment).where(column == value).execute()
