"""Reading our responses as a generic hypermedia client would: parse each media
type strictly and pull out the links and actions it offers.
"""
from __future__ import annotations

import json
import pathlib
from typing import Iterable

import jsonschema
from lxml import etree, html

HAL = "application/hal+json"
HAL_XML = "application/hal+xml"
SIREN = "application/vnd.siren+json"
PLAIN = "application/json"
HTML = "text/html"
HAL_FORMS = "application/prs.hal-forms+json"
MEDIA_TYPES = [HAL, HAL_XML, SIREN, PLAIN, HTML, HAL_FORMS]

SIREN_SCHEMA = json.loads((pathlib.Path(__file__).parent / "schemas" / "siren.schema.json").read_text())


def well_formed(response) -> object:
    """Parse a response strictly in its media type; the parsed document."""
    media_type = response.content_type
    body = response.body
    if media_type in (HAL, PLAIN):
        return json.loads(body)
    if media_type == HAL_FORMS:
        document = json.loads(body)
        for key, template in document.get("_templates", {}).items():
            assert key and template["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE"), template
            for prop in template.get("properties", []):
                assert prop["name"] and "value" not in prop or prop["value"] is not None, prop
        return document
    if media_type == SIREN:
        document = json.loads(body)
        jsonschema.validate(document, SIREN_SCHEMA)
        return document
    if media_type == HAL_XML:
        return etree.fromstring(body)
    if media_type == HTML:
        assert body.lstrip().lower().startswith(b"<!doctype html>"), body[:60]
        return html.document_fromstring(body)
    raise AssertionError(f"unexpected media type {media_type}")


def hal_links(document: dict) -> Iterable[tuple[str, str]]:
    for rel, value in document.get("_links", {}).items():
        if rel == "curies":
            continue
        for link in value if isinstance(value, list) else [value]:
            if not link.get("templated"):
                yield rel, link["href"]
    for value in document.get("_embedded", {}).values():
        for item in value if isinstance(value, list) else [value]:
            yield from hal_links(item)


def xml_links(root) -> Iterable[tuple[str, str]]:
    for link in root.iter("link"):
        if link.get("templated") != "true":
            yield link.get("rel"), link.get("href")


def siren_links(document: dict) -> Iterable[tuple[str, str]]:
    for link in document.get("links", []):
        if "templated" not in link.get("class", []):
            yield link["rel"][0], link["href"]
    for entity in document.get("entities", []):
        if "href" in entity and "properties" not in entity:
            yield entity["rel"][0], entity["href"]
        else:
            yield from siren_links(entity)


def siren_actions(document: dict) -> Iterable[dict]:
    yield from document.get("actions", [])
    for entity in document.get("entities", []):
        yield from siren_actions(entity)


def links_of(media_type: str, document) -> list[tuple[str, str]]:
    return list({HAL: hal_links, HAL_FORMS: hal_links, HAL_XML: xml_links,
                 SIREN: siren_links}[media_type](document))
