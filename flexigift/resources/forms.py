"""HTML forms and marshmallow schemas: the fields of Siren actions, HTML forms
and OPTIONS bodies are described from the schemas here, so they always match
validation, and what a form sends back is read here into the schema's terms.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from marshmallow import Schema, fields, missing, validate

from representations import Action, Field

from ..errors import BadRequest, ValidationFailed
from ..http.bodies import parse_json_object
from ..http.context import current_g, current_request
from ..money import to_number
from ..schemas import Money

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
            value=_default(field),
        )
        for name, field in schema.fields.items() if not field.dump_only
    )
    _BLANK[id(schema)] = (schema, described)
    return described


def _default(field: fields.Field) -> Any:
    """What a blank form field starts with: the value the schema takes when the field is
    not sent (so a select shows the default chosen), when it is a plain one."""
    default = field.metadata.get("default", field.load_default)  # metadata: what the service defaults to
    if default is missing or default is None or callable(default) or isinstance(default, (dict, list)):
        return None
    if isinstance(field, Money) and isinstance(default, int):
        return to_number(default)
    return default


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
    """A form box holding a JSON object, read as strictly as a JSON body is."""
    try:
        return parse_json_object(text.encode())
    except BadRequest as error:
        raise ValidationFailed.single(name, f"Must be a JSON object: {error.message}") from None


def remember_form(schema: Schema, typed: dict[str, Any]) -> None:
    """Keep what a person typed into a form, to show the form again if it is refused."""
    current_g().submitted_form = (schema, typed)


def retry_action(errors: list[dict[str, Any]]) -> Action | None:
    """The form a refused form post came from, filled in with what was typed and each
    field's error beside it (``None`` when the request was not a form post)."""
    submitted = current_g().get("submitted_form")
    if submitted is None:
        return None
    schema, typed = submitted
    messages: dict[str, list[str]] = {}
    for entry in errors:
        field = entry.get("field")
        if field is not None:
            name = str(field).split(".")[0]
            messages.setdefault(name, []).append(str(entry.get("message", "")).removeprefix(f"{field}: "))
    fields = tuple(
        replace(field, value=_form_value(typed[field.name]) if field.name in typed else field.value,
                error=" ".join(messages[field.name]) if field.name in messages else None)
        for field in _blank_fields(schema)
    )
    request = current_request()
    # The URL the form was posted to (path-absolute: the page is the answer to that post).
    href = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    return Action("retry", href, request.method, "Correct and send again", fields=fields)
