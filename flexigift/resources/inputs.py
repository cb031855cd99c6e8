"""What a request sends: its body as a mapping (JSON, HAL+JSON or an HTML form,
read into the schema's terms) and its ``Idempotency-Key``.
"""
from __future__ import annotations

import re
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError

from ..errors import BadRequest, ValidationFailed
from ..http.bodies import read_body
from ..services.idempotency import HEADER, MAX_KEY_LENGTH
from .forms import from_form, remember_form

_KEY = re.compile(r"[\x21-\x7e]+")


def request_body() -> tuple[dict[str, Any], bool]:
    """The request's body as a mapping, and whether it came from an HTML form.

    Read once per request (a redemption peeks at its product_id before the body
    is validated); each caller gets a mapping of its own, to change as it likes.
    """
    read = getattr(request, "flexigift_body", None)
    if read is None:
        raw = request.get_data(cache=True)
        read = read_body(request.mimetype, raw, request.form if request.mimetype.endswith("urlencoded") else None)
        request.flexigift_body = read
    return dict(read[0]), read[1]


def write_body(schema: Schema) -> dict[str, Any]:
    """The body of a create or change: as sent, or an HTML form read in ``schema``'s terms."""
    body, is_form = request_body()
    if not is_form:
        return body
    remember_form(schema, body)
    return from_form(body, schema)


def action_body(schema: Schema) -> tuple[dict[str, Any], Any]:
    """An action's validated body, and its ``_links`` (``None`` when it has none)."""
    body, is_form = request_body()
    links = body.pop("_links", None)
    body.pop("_embedded", None)
    if is_form:
        remember_form(schema, body)
        body = from_form(body, schema)
    try:
        return schema.load(body), links
    except ValidationError as error:
        raise ValidationFailed.from_messages(error.messages) from None


def idempotency_ttl() -> int:
    """How long this application remembers an ``Idempotency-Key`` (seconds)."""
    return current_app.config["FLEXIGIFT"].idempotency_ttl


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key``, or ``None``; 400 when it is not a usable key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key) or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII "
                         "characters (a UUID is a good key).", HEADER, logref="invalid_idempotency_key")
    return key
