"""HTML forms and marshmallow schemas: the fields of Siren actions, HTML forms
and OPTIONS bodies are described from the schemas here, so they always match
validation, and what a form sends back is read here into the schema's terms.
"""
from __future__ import annotations

import decimal
import json
import re
from dataclasses import replace
from typing import Any

from marshmallow import Schema, fields, validate

from representations import Field

from ..errors import ValidationFailed

_INPUT_TYPES = {
    fields.Integer: "number",
    fields.Float: "number",
    fields.Decimal: "number",
    fields.Boolean: "checkbox",
    fields.Date: "date",
    fields.DateTime: "datetime-local",
    fields.Email: "email",
    fields.URL: "url",
}


def input_type(field: fields.Field) -> str:
    """The HTML5 input type for a schema field (``metadata['input']`` wins)."""
    if "input" in field.metadata:
        return field.metadata["input"]
    for field_class, name in _INPUT_TYPES.items():
        if isinstance(field, field_class):
            return name
    return "text"


def action_fields(schema: Schema, values: dict[str, Any] | None = None,
                  only: tuple[str, ...] | None = None) -> tuple[Field, ...]:
    """One :class:`Field` per writable schema field, with current ``values`` filled in."""
    blank = _blank_fields(schema)
    if only is not None:
        blank = tuple(field for field in blank if field.name in only)
    if not values:
        return blank
    return tuple(
        replace(field, value=_form_value(values[field.name])) if values.get(field.name) is not None
        else field
        for field in blank
    )


def _form_value(value: Any) -> Any:
    return ",".join(value) if isinstance(value, list) else value


_BLANK: dict[int, tuple[Schema, tuple[Field, ...]]] = {}


def _blank_fields(schema: Schema) -> tuple[Field, ...]:
    """The writable fields of ``schema`` without values, worked out once per schema."""
    cached = _BLANK.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    described = tuple(
        Field(
            name=name,
            type=input_type(field),
            title=field.metadata.get("title", name.replace("_", " ").capitalize()),
            required=field.required,
            max_length=field.metadata.get("max_length") or _max_length(field),
            options=tuple(field.metadata.get("options", ())) or _choices(field),
            description=field.metadata.get("description"),
        )
        for name, field in schema.fields.items() if not field.dump_only
    )
    _BLANK[id(schema)] = (schema, described)
    return described


def _max_length(field: fields.Field) -> int | None:
    for validator in field.validators:
        if isinstance(validator, validate.Length) and validator.max is not None:
            return validator.max
    return None


def _choices(field: fields.Field) -> tuple[str, ...]:
    for validator in field.validators:
        if isinstance(validator, validate.OneOf) and len(validator.choices) <= 20:
            return tuple(str(choice) for choice in validator.choices)
    return ()


def describe_fields(schema: Schema, only: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The writable fields as plain data (for OPTIONS bodies and /rels pages)."""
    return [
        {key: value for key, value in {
            "name": field.name, "type": field.type, "title": field.title,
            "required": field.required, "max_length": field.max_length,
            "options": list(field.options) or None, "description": field.description,
        }.items() if value not in (None, False)} | {"required": field.required}
        for field in action_fields(schema, only=only)
    ]


#: What separates the entries of a list field typed into one form box.
_LIST_SEPARATORS = re.compile(r"[,\r\n]+")


def from_form(body: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """An HTML form's text in the terms of ``schema``.

    A blank box is a field not given; a list field's entries are separated by
    commas or line breaks (blanks around each ignored); an object field holds
    JSON text. Everything else goes to validation exactly as typed.
    """
    data: dict[str, Any] = {}
    for name, value in body.items():
        field = schema.fields.get(name)
        if isinstance(field, fields.List):
            texts = value if isinstance(value, list) else [value]
            data[name] = [entry.strip() for text in texts for entry in _LIST_SEPARATORS.split(text)
                          if entry.strip()]
        elif value == "":
            continue
        elif isinstance(field, fields.Dict) and isinstance(value, str):
            data[name] = _json_text(name, value)
        else:
            data[name] = value
    return data


def _json_text(name: str, text: str) -> Any:
    try:
        return json.loads(text, parse_float=decimal.Decimal)
    except (ValueError, RecursionError) as error:
        raise ValidationFailed.single(name, f"Must be a JSON object: {error}.") from None
