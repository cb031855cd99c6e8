"""Golden documents: one file per sample resource and media type, compared by structure.

``tests/golden/<name>.<ext>`` holds what a renderer should produce. A
comparison parses both sides and compares what they mean, not their bytes:

- JSON: the parsed values, with every non-integer number kept as its literal
  text, so ``250.00`` never equals ``250.0`` and money stays exact;
- XML and HTML: a canonical tree of (tag, attributes, stripped text, stripped
  tail, children in order); the XML declaration, doctype and whitespace
  between elements do not count.

Set ``FLEXIGIFT_REGENERATE_GOLDEN=1`` to rewrite the goldens from the current
output (then read the diff before committing it).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import lxml.html
import orjson
from lxml import etree

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
REGENERATE = os.environ.get("FLEXIGIFT_REGENERATE_GOLDEN") == "1"


def load_json(data: bytes | str) -> Any:
    """JSON parsed with non-integer numbers kept as their exact text."""
    return json.loads(data, parse_float=lambda literal: ("number", literal))


def canonical(element: etree._Element) -> tuple[Any, ...]:
    """An element's structure, its tail included, with surrounding whitespace removed."""
    return (
        element.tag,
        dict(sorted(element.attrib.items())),
        (element.text or "").strip(),
        [canonical(child) for child in element if isinstance(child.tag, str)],
        (element.tail or "").strip(),
    )


def load_xml(data: bytes) -> tuple[Any, ...]:
    return canonical(etree.fromstring(data))


def load_html(data: bytes) -> tuple[Any, ...]:
    return canonical(lxml.html.document_fromstring(data))


class _Literal:
    """A JSON number kept as the text it was written with."""

    def __init__(self, text: str) -> None:
        self.text = text


def _as_written(number: _Literal) -> orjson.Fragment:
    return orjson.Fragment(number.text)


def _pretty_json(data: bytes) -> bytes:
    """Indented JSON for a golden file, every number written as it was."""
    document = json.loads(data, parse_float=_Literal)
    return orjson.dumps(document, default=_as_written, option=orjson.OPT_INDENT_2) + b"\n"


LOADERS: dict[str, Callable[[bytes], Any]] = {
    "json": load_json,
    "xml": load_xml,
    "html": load_html,
}


def _kind(extension: str) -> str:
    return extension.rpartition(".")[2]


def assert_matches_golden(name: str, extension: str, output: bytes) -> None:
    """Compare ``output`` with ``tests/golden/<name>.<extension>`` by structure."""
    path = GOLDEN_DIR / f"{name}.{extension}"
    kind = _kind(extension)
    if REGENERATE:
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_pretty_json(output) if kind == "json" else output)
    assert path.exists(), f"no golden {path}; run with FLEXIGIFT_REGENERATE_GOLDEN=1"
    load = LOADERS[kind]
    assert load(output) == load(path.read_bytes()), f"output differs from {path}"
