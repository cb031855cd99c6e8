"""Which product_ids an issuer's ``product_code_restrictions`` admit.

The semantics are those of Foxy's gift cards (seed 004): a comma-separated
list of product codes, each matched exactly unless it has ``*`` at its start
(the product_id ends with the rest), at its end (starts with the rest), or
both (contains the rest). ``abc123, fun_*, *-small`` admits ``abc123``,
``fun_``, ``fun_times`` and ``example-small``, and not ``abc12``, ``abc1234``,
``fun`` or ``good-smalls``. Matching is case-sensitive, as product_ids are.
Blanks around each pattern are ignored; no restrictions (``null``, or a text
with no pattern in it) admits every product of the issuer.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

WILDCARD = "*"


class InvalidRestrictions(ValueError):
    """A restrictions text with a wildcard somewhere other than a pattern's ends."""


@dataclass(frozen=True)
class Pattern:
    """One product code pattern: exact, prefix (``fun_*``), suffix (``*-small``) or both."""

    core: str
    starts_open: bool = False
    ends_open: bool = False

    @classmethod
    def parse(cls, text: str) -> "Pattern":
        starts_open = text.startswith(WILDCARD)
        core = text[1:] if starts_open else text
        ends_open = core.endswith(WILDCARD)
        core = core[:-1] if ends_open else core
        if WILDCARD in core:
            raise InvalidRestrictions(
                f"{text!r}: '*' is allowed only at the start or end of a product code pattern"
            )
        return cls(core, starts_open, ends_open)

    def matches(self, product_id: str) -> bool:
        if self.starts_open and self.ends_open:
            return self.core in product_id
        if self.starts_open:
            return product_id.endswith(self.core)
        if self.ends_open:
            return product_id.startswith(self.core)
        return product_id == self.core


@functools.lru_cache(maxsize=1024)
def parse_restrictions(text: str | None) -> tuple[Pattern, ...] | None:
    """The patterns of ``text``; ``None`` when it restricts nothing."""
    if text is None:
        return None
    patterns = tuple(Pattern.parse(part.strip()) for part in text.split(",") if part.strip())
    return patterns or None


def admits(restrictions: str | None, product_id: str) -> bool:
    """Whether a card under ``restrictions`` may buy ``product_id``."""
    patterns = parse_restrictions(restrictions)
    return patterns is None or any(pattern.matches(product_id) for pattern in patterns)
