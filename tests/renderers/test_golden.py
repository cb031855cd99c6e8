"""Every renderer against its golden documents (tests/golden/), by structure."""
from __future__ import annotations

import pytest

from golden import assert_matches_golden, load_html, load_json, load_xml
from representations import (
    HalFormsRenderer,
    HalJsonRenderer,
    HalXmlRenderer,
    HtmlRenderer,
    PlainJsonRenderer,
    SirenRenderer,
)
from representations.renderer import Renderer

#: Golden file extension of each renderer.
EXTENSIONS: dict[str, Renderer] = {
    "hal.json": HalJsonRenderer(),
    "hal.xml": HalXmlRenderer(),
    "siren.json": SirenRenderer(),
    "json": PlainJsonRenderer(),
    "html": HtmlRenderer(),
    "hal-forms.json": HalFormsRenderer(),
}


@pytest.mark.parametrize("extension", EXTENSIONS)
@pytest.mark.parametrize("name", ["user", "gift_card", "collection", "error"])
def test_rendering_matches_golden(
    name: str, extension: str, request: pytest.FixtureRequest
) -> None:
    resource = request.getfixturevalue(name)
    assert_matches_golden(name, extension, EXTENSIONS[extension].render(resource))


# The comparison itself: structure counts, layout does not.

def test_json_comparison_keeps_number_text() -> None:
    assert load_json(b'{"a": 250.00, "b": 1}') == load_json(b'{ "b":1,"a":250.00 }')
    assert load_json(b'{"a": 250.00}') != load_json(b'{"a": 250.0}')


def test_xml_comparison_ignores_layout_only() -> None:
    compact = b'<resource href="/x"><link rel="self"/><a>1</a></resource>'
    pretty = (
        b"<?xml version='1.0'?>\n"
        b"<resource href='/x'>\n  <link rel='self'/>\n  <a>1</a>\n</resource>\n"
    )
    assert load_xml(compact) == load_xml(pretty)
    assert load_xml(compact) != load_xml(compact.replace(b"<a>1</a>", b"<a>2</a>"))
    assert load_xml(compact) != load_xml(compact.replace(b'rel="self"', b'rel="next"'))


def test_html_comparison_sees_text_between_elements() -> None:
    page = b"<!DOCTYPE html><html><body><p><b>a</b>: b</p></body></html>"
    assert load_html(page) != load_html(page.replace(b": b", b": c"))
