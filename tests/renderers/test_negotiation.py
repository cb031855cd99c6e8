"""Choosing a renderer from Accept: q-values, wildcards, specificity, aliases."""
from __future__ import annotations

import pytest

from representations import RENDERERS, parse_accept, renderer_for, supported_media_types
from representations.negotiation import MediaRange


def chosen(accept: str | None) -> str | None:
    renderer = renderer_for(accept)
    return None if renderer is None else renderer.media_type


def test_renderers_in_server_order() -> None:
    assert supported_media_types() == [
        "application/hal+json",
        "application/hal+xml",
        "application/vnd.siren+json",
        "application/json",
        "text/html",
        "application/prs.hal-forms+json",
    ]


@pytest.mark.parametrize("accept", [None, "", "   ", "*/*"])
def test_no_preference_gets_hal_json(accept: str | None) -> None:
    assert chosen(accept) == "application/hal+json"


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.media_type)
def test_each_media_type_by_its_own_name(renderer) -> None:
    assert renderer_for(renderer.media_type) is renderer


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/xml", "application/hal+xml"),
        ("text/xml", "application/hal+xml"),
        ("application/xhtml+xml", "text/html"),
    ],
)
def test_alias_names_its_renderer(accept: str, expected: str) -> None:
    assert chosen(accept) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json;q=0.5, application/hal+xml", "application/hal+xml"),
        (
            "application/hal+xml;q=0.2, application/vnd.siren+json;q=0.9",
            "application/vnd.siren+json",
        ),
        ("text/html;q=0.1, application/json;q=0.3", "application/json"),
        ("application/vnd.siren+json; q=1.0, */*;q=0.1", "application/vnd.siren+json"),
    ],
)
def test_higher_quality_wins(accept: str, expected: str) -> None:
    assert chosen(accept) == expected


def test_q_zero_excludes_a_type() -> None:
    assert chosen("application/hal+json;q=0, */*") == "application/hal+xml"


def test_q_zero_on_an_alias_excludes_its_renderer() -> None:
    assert chosen("application/*, application/xml;q=0, application/hal+json;q=0") == (
        "application/vnd.siren+json"
    )


def test_only_q_zero_is_not_acceptable() -> None:
    assert chosen("*/*;q=0") is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/*", "application/hal+json"),
        ("text/*, application/*;q=0.5", "text/html"),
    ],
)
def test_wildcard_subtype(accept: str, expected: str) -> None:
    assert chosen(accept) == expected


def test_wildcard_does_not_match_aliases() -> None:
    # text/xml is only another name for HAL+XML; text/* means the text types.
    assert chosen("text/*") == "text/html"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json, */*", "application/json"),
        ("*/*, application/json", "application/json"),
        ("text/html, application/*", "text/html"),
        ("application/*, application/vnd.siren+json", "application/vnd.siren+json"),
    ],
)
def test_specific_range_beats_server_order(accept: str, expected: str) -> None:
    assert chosen(accept) == expected


def test_browser_accept_gets_html() -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert chosen(accept) == "text/html"


@pytest.mark.parametrize(
    "accept",
    [
        "garbage, application/json",
        "application/json, /json",
        "application/json, application/",
        "*/json, application/json",
        "application/hal+json;q=abc, application/json",
        "application/hal+json;q=2, application/json",
        "application/hal+json;q=-1, application/json",
        ",,;, application/json",
    ],
)
def test_malformed_entries_are_ignored(accept: str) -> None:
    assert chosen(accept) == "application/json"


@pytest.mark.parametrize("accept", ["image/png", "text/plain", "application/pdf, audio/*"])
def test_nothing_acceptable_is_none(accept: str) -> None:
    assert chosen(accept) is None


def test_only_malformed_entries_are_not_acceptable() -> None:
    assert chosen("garbage") is None


def test_parameters_and_case_are_tolerated() -> None:
    assert chosen("Application/Vnd.Siren+JSON; charset=utf-8; q=0.8") == (
        "application/vnd.siren+json"
    )


def test_parse_accept_reads_q_values() -> None:
    assert parse_accept("text/html;q=0.5, */*") == [
        MediaRange("text", "html", 0.5),
        MediaRange("*", "*", 1.0),
    ]
