"""Choosing a renderer from an ``Accept`` header (RFC 9110 section 12.5.1).

q-values are honoured (``q=0`` excludes a type); among ranges of equal
quality the most specific match wins, then the server's order of preference.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence


class Negotiable(Protocol):
    media_type: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float = 1.0

    @property
    def specificity(self) -> int:
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        type_, _, subtype = media_type.partition("/")
        if self.type != "*" and self.type != type_:
            return False
        return self.subtype == "*" or self.subtype == subtype


def _quality(params: list[str]) -> float | None:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are ignored."""
    if not header or not header.strip():
        return [MediaRange("*", "*")]
    ranges = []
    for entry in header.split(","):
        media, *params = entry.split(";")
        type_, sep, subtype = media.strip().lower().partition("/")
        q = _quality(params)
        if not sep or not type_ or not subtype or q is None:
            continue
        if type_ == "*" and subtype != "*":
            continue
        ranges.append(MediaRange(type_, subtype, q))
    return ranges


def _best_match(ranges: list[MediaRange], candidate: Negotiable) -> tuple[float, int] | None:
    best: MediaRange | None = None
    for name in (candidate.media_type, *candidate.aliases):
        for media_range in ranges:
            # An alias answers only when named outright: otherwise ``text/*``
            # would pick HAL+XML (alias ``text/xml``) over HTML.
            if name != candidate.media_type and media_range.specificity < 2:
                continue
            if media_range.matches(name) and (
                best is None or media_range.specificity > best.specificity
            ):
                best = media_range
    if best is None:
        return None
    return best.q, best.specificity


def select(accept: str | None, candidates: Sequence[Negotiable]) -> Negotiable | None:
    """The candidate the client prefers, or ``None`` when none is acceptable.

    ``candidates`` are in the server's order of preference; the first one is
    the answer to ``*/*`` and to a request without Accept.
    """
    ranges = parse_accept(accept)
    chosen, chosen_key = None, (0.0, -1, 0)
    for position, candidate in enumerate(candidates):
        match = _best_match(ranges, candidate)
        if match is None or match[0] <= 0.0:
            continue
        key = (match[0], match[1], -position)
        if key > chosen_key:
            chosen, chosen_key = candidate, key
    return chosen


#: Short names a link can use for a media type (``?format=siren``): a browser cannot set Accept.
FORMAT_NAMES = {
    "hal": "application/hal+json", "xml": "application/hal+xml", "siren": "application/vnd.siren+json",
    "json": "application/json", "html": "text/html", "hal-forms": "application/prs.hal-forms+json",
}
