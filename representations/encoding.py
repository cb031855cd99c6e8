"""JSON encoding shared by the JSON-based renderers.

Money arrives as :class:`decimal.Decimal` and leaves as a JSON number written
from its exact decimal text (never through a binary float); dates and times
leave as ISO 8601 strings. The text the XML and HTML renderers show of a
value, and the clean-up XML needs, live here too.
"""
from __future__ import annotations

import datetime
import decimal
import re
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS

# What XML 1.0 cannot carry at all, not even as a character reference: C0
# controls other than tab, LF and CR, lone surrogates (not even UTF-8), U+FFFE
# and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


#: Types orjson writes as they are (checked first: nearly every property is one).
_PLAIN = frozenset({str, int, bool, float, type(None)})


def json_value(value: Any) -> Any:
    """``value`` made encodable: decimals become exact number fragments."""
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value!r} as JSON")
        return orjson.Fragment(format(value, "f"))
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(item) for item in value]
    return value


def json_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """A copy of a property mapping to encode with :func:`dumps` (which writes decimals
    exactly wherever they are): a renderer adds its own keys to the copy."""
    return dict(properties)


def _default(value: Any) -> Any:
    """What orjson asks of a value it does not write itself: a decimal (money, and a
    fraction in metadata) as its exact text, a set as a list, anything else as text."""
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value!r} as JSON")
        return orjson.Fragment(format(value, "f"))
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def dumps(document: Any, pretty: bool = False) -> bytes:
    """Encode ``document`` as UTF-8 JSON; decimals, wherever they are, as exact numbers."""
    options = _OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0)
    try:
        return orjson.dumps(document, default=_default, option=options)
    except TypeError as error:
        if isinstance(error.__cause__, ValueError):
            raise error.__cause__ from None  # a decimal JSON has no number for
        # orjson refuses integers beyond 64 bits (metadata may hold any JSON number):
        # such a document is encoded again with those written from their digits.
        return orjson.dumps(_big_integers_as_text(document), default=_default, option=options)


_INT64 = range(-(2**63), 2**64)


def _big_integers_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _big_integers_as_text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_big_integers_as_text(item) for item in value]
    return value


def text(value: Any) -> str:
    """The text of a scalar property as the non-JSON renderers show it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def xml_safe(value: str) -> str:
    """``value`` with each character XML 1.0 forbids replaced by U+FFFD.

    Replaced rather than dropped, so a reader can see that something was
    there. The XML and HTML renderers pass every string through this.
    """
    return _NOT_XML.sub("\ufffd", value)
