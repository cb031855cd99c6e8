"""Request bodies: JSON, HAL+JSON and HTML form encoding, read into one mapping.

Malformed JSON is a 400 naming the line and column; so is text that is not
Unicode (invalid UTF-8, or a ``\\uD800``-style escape that is half of a
surrogate pair). A property whose text holds U+0000, which PostgreSQL cannot
store, is a 422 naming it, on every database alike. A body of any other media
type is a 415; the size limit (413) is enforced by Werkzeug.
"""
from __future__ import annotations

import decimal
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

from ..errors import BadRequest, UnsupportedMediaType, ValidationFailed

JSON_TYPES = ("application/json", "application/hal+json")
FORM_TYPE = "application/x-www-form-urlencoded"
ACCEPTED_TYPES = (*JSON_TYPES, FORM_TYPE)
NUL = "\x00"
#: Form fields that steer the request rather than carry data.
FORM_CONTROLS = frozenset({"_method", "_csrf", "_confirm"})


def read_body(mimetype: str, raw: bytes, form: MultiDict | None = None) -> tuple[dict[str, Any], bool]:
    """The body as a mapping, and whether it came from an HTML form.

    A form is read from ``raw`` when there is one (strictly as UTF-8); ``form``,
    already parsed, is the fallback for a body that is no longer at hand.
    """
    if mimetype in JSON_TYPES:
        data, from_form = parse_json_object(raw), False
    elif mimetype == FORM_TYPE:
        data, from_form = form_mapping(parse_form(raw) if raw else form or MultiDict()), True
    elif not raw.strip() and not mimetype:
        return {}, False
    else:
        raise UnsupportedMediaType(
            f"Cannot read a request body of type {mimetype or '(none)'}; "
            f"send one of: {', '.join(ACCEPTED_TYPES)}.",
            headers={"Accept-Post": ", ".join(ACCEPTED_TYPES)},
        )
    reject_nul_text(data)
    return data, from_form


class _Constant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: accepted by Python's parser, not by JSON."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


class _RepeatedKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is refused (parsers disagree on which one wins)."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return value


def _whole_number(digits: str) -> int | decimal.Decimal:
    # Python refuses to make an int of more than 4300 digits; such a number is still
    # JSON, so keep it (exactly) and let validation say it is out of range.
    return int(digits) if len(digits) <= 4000 else decimal.Decimal(digits)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object; numbers with a fraction become exact decimals."""
    text = _decode(raw)
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_float=decimal.Decimal, parse_int=_whole_number,
                           parse_constant=_reject_constant, object_pairs_hook=_object)
    except json.JSONDecodeError as error:
        raise BadRequest(_describe(error), logref="malformed_json") from None
    except _RepeatedKey as error:
        raise BadRequest(f"Malformed JSON: the key {error.key!r} appears more than once in one object; "
                         "which one was meant cannot be known.", error.key, logref="malformed_json") from None
    except _Constant as error:
        raise BadRequest(_describe_constant(text, error.name), logref="malformed_json") from None
    except (ValueError, RecursionError) as error:
        raise BadRequest(f"Malformed JSON: {error}.", logref="malformed_json") from None
    if "\\u" in text:
        _reject_lone_surrogates(text)
    if not isinstance(value, dict):
        raise BadRequest(
            f"The request body must be a JSON object, not {type(value).__name__}.",
            logref="malformed_json",
        )
    return value


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"The request body is not valid UTF-8 (byte {error.start}).", logref="malformed_json"
        ) from None


def _where(text: str, position: int) -> str:
    """``line L, column C`` (both from 1) of a character offset in ``text``."""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def _describe(error: json.JSONDecodeError) -> str:
    """Say what is wrong and where, naming a trailing comma when that is the fault."""
    text, position = error.doc, error.pos
    before = text[:position].rstrip()
    if before.endswith(",") and text[position:position + 1] in ("}", "]"):  # not "": the text may end there
        comma = len(before) - 1
        closer = "object" if text[position] == "}" else "array"
        return (
            f"Malformed JSON at {_where(text, comma)}: trailing comma after the "
            f"last member of an {closer} (remove the comma before "
            f"'{text[position]}' at line {error.lineno}, column {error.colno})."
        )
    # json's messages were written to be followed by " line L column C (char N)".
    what = re.sub(r"(?: starting)? at$", "", error.msg)
    return f"Malformed JSON at line {error.lineno}, column {error.colno}: {what}."


#: A JSON string, or one of the constants JSON does not have (outside strings).
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.DOTALL)


def _describe_constant(text: str, name: str) -> str:
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match.group(1) == name:
            return (f"Malformed JSON at {_where(text, match.start())}: {name} is not a JSON "
                    "value (numbers must be finite).")
    return f"Malformed JSON: {name} is not a JSON value (numbers must be finite)."


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def _reject_lone_surrogates(text: str) -> None:
    """400 for a ``\\uD800``–``\\uDFFF`` escape that is not half of a surrogate pair:
    it names no character, and no database or renderer can carry it."""
    for string in _STRING.finditer(text):
        high_at = high_end = None
        for escape in _ESCAPE.finditer(text, string.start() + 1, string.end() - 1):
            code = int(escape.group(1), 16) if escape.group(1) else None
            is_low = code is not None and 0xDC00 <= code <= 0xDFFF
            if high_at is not None:
                if is_low and escape.start() == high_end:
                    high_at = None
                    continue
                _lone_surrogate(text, high_at)
            if code is not None and 0xD800 <= code <= 0xDBFF:
                high_at, high_end = escape.start(), escape.end()
            elif is_low:
                _lone_surrogate(text, escape.start())
        if high_at is not None:
            _lone_surrogate(text, high_at)


def _lone_surrogate(text: str, position: int) -> None:
    escape = text[position:position + 6]
    raise BadRequest(
        f"Malformed JSON at {_where(text, position)}: {escape} is half of a surrogate pair, "
        "not a character (a \\uD800-\\uDBFF escape must be followed directly by a "
        "\\uDC00-\\uDFFF one).", logref="malformed_json",
    )


def parse_form(raw: bytes) -> MultiDict:
    """An ``application/x-www-form-urlencoded`` body, read strictly as UTF-8."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8",
                          errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8 (once its %-escapes are decoded).",
                         logref="malformed_form") from None
    except ValueError as error:
        raise BadRequest(f"Malformed form body: {error}.", logref="malformed_form") from None
    return MultiDict(pairs)


def form_mapping(form: MultiDict) -> dict[str, Any]:
    """An HTML form as a mapping: repeated names become lists; ``_method`` and
    ``_csrf`` (for the HTTP layer, not the resource) are dropped."""
    data: dict[str, Any] = {}
    for name in form.keys():
        if name in FORM_CONTROLS:
            continue
        values = form.getlist(name)
        data[name] = values if len(values) > 1 else values[0]
    return data


def reject_nul_text(data: dict[str, Any]) -> None:
    """422 naming every property whose text (or a text in its list) holds U+0000.

    Properties are stored in text columns, and PostgreSQL cannot store that
    character; refusing it everywhere keeps SQLite and PostgreSQL alike. Nested
    objects (``metadata``, ``_links``) are stored as JSON, where it is escaped.
    """
    problems = {
        name: ["Must not contain the NUL character (U+0000)."]
        for name, value in data.items()
        if _holds_nul(value) or (isinstance(value, list) and any(_holds_nul(item) for item in value))
    }
    if problems:
        raise ValidationFailed.from_messages(problems)


def _holds_nul(value: Any) -> bool:
    return isinstance(value, str) and NUL in value
