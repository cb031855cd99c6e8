"""marshmallow schemas: what each resource accepts, validated field by field.

They validate plain state and report every field at fault at once; they add
no links. Their fields also describe the writes a resource accepts (OPTIONS
bodies, Siren action fields, HTML forms) through ``metadata``:
``input`` is the HTML5 input type, ``title`` the label.
"""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from representations.encoding import dumps, json_value

from .currencies import ISO_4217
from .money import InvalidAmount, body_currency, format_cents, parse_cents, parse_minor, to_number
from .services.issuers import InvalidPeriod, parse_period
from .services.restrictions import InvalidRestrictions, parse_restrictions

EXPIRES_AFTER = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)[dwmy]")
METADATA_MAX_BYTES = 4096


class Money(fields.Field):
    """An exact amount of money, loaded as integer cents."""

    def __init__(self, *, positive: bool = False, signed: bool = False, as_string: bool = False, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("input", "number")
        super().__init__(**kwargs)
        self.positive = positive
        self.signed = signed
        self.as_string = as_string

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        currency = body_currency()
        try:
            cents = parse_cents(value) if currency is None else parse_minor(value, currency)
        except InvalidAmount as error:
            raise ValidationError(f"Must be an amount of money: {error}.") from None
        if self.positive and cents <= 0:
            raise ValidationError("Must be greater than 0.")
        if self.signed and cents == 0:
            raise ValidationError("Must not be 0: send a positive amount to add, a negative one to take away.")
        if cents < 0 and not self.signed:
            raise ValidationError("Must not be negative.")
        return cents

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format_cents(value) if self.as_string else to_number(value)


def _text(max_length: int, *, required: bool = False, title: str, min_length: int | None = None):
    minimum = 1 if required and min_length is None else min_length
    return fields.String(
        required=required,
        allow_none=not required,
        validate=validate.Length(min=minimum, max=max_length),
        metadata={"title": title, "max_length": max_length},
    )


def _email(title: str):
    return fields.Email(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"title": title, "input": "email", "max_length": 254},
    )


def _read_only(field_class=fields.Raw, **kwargs):
    return field_class(dump_only=True, **kwargs)


class ResourceSchema(Schema):
    """Fields every resource has; all of them read only."""

    id = _read_only(fields.Integer)
    date_created = _read_only(fields.DateTime)
    date_modified = _read_only(fields.DateTime)


class UserSchema(ResourceSchema):
    """A shopper: ``gift_cards`` lists the card_ids linked to the user."""

    user_id = _text(50, required=True, title="User ID")
    amazon_id = _text(50, title="Amazon ID")
    name = _text(100, title="Name")
    email = _email("Email")
    gift_cards = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)),
        allow_none=True,
        metadata={"title": "Gift cards (card_ids)", "input": "text", "many": True},
    )


class GiftCardSchema(ResourceSchema):
    """A gift card. ``balance`` is set once, at creation."""

    card_id = _text(50, required=True, title="Card ID")
    user_id = _text(50, title="User ID")
    issuer = _text(50, required=True, title="Issuer")
    balance = Money(required=True, metadata={"title": "Balance"})
    initial_balance = _read_only(Money)
    available_balance = _read_only(Money, metadata={
        "description": "the balance less what the card's active holds reserve"})
    currency_code = fields.String(
        allow_none=True,
        validate=validate.OneOf(sorted(ISO_4217), error="Must be an ISO 4217 currency code, like USD."),
        metadata={"title": "Currency code", "max_length": 3},
    )
    expiry_date = fields.Date(allow_none=True, metadata={"title": "Expiry date", "input": "date"})
    status = fields.String(
        validate=validate.OneOf(["active", "disabled"], error="Must be active or disabled; "
                                "redeemed and expired are set by the service."),
        metadata={"title": "Status", "options": ("active", "disabled"), "default": "active"},
    )
    single_use = fields.Boolean(load_default=False, metadata={"title": "Single use", "input": "checkbox"})
    rechargeable = fields.Boolean(load_default=True, metadata={"title": "Rechargeable", "input": "checkbox"})
    balance_max = Money(allow_none=True, metadata={"title": "Maximum balance"})
    recipient_email = _email("Recipient email")
    reference = _text(100, title="Reference")
    metadata = fields.Dict(allow_none=True, metadata={"title": "Metadata (JSON object)", "input": "text"})

    @validates("metadata")
    def _metadata_size(self, value, data_key: str) -> None:
        if value is None:
            return
        try:
            size = len(dumps(json_value(value)))
        except (TypeError, ValueError):
            raise ValidationError("Must be a JSON object.") from None
        if size > METADATA_MAX_BYTES:
            raise ValidationError(f"Must be at most {METADATA_MAX_BYTES} bytes as JSON, got {size}.")


class ProductSchema(ResourceSchema):
    """A product an issuer's cards may buy."""

    product_id = _text(50, required=True, title="Product ID")
    name = _text(200, required=True, title="Name")
    price = Money(required=True, positive=True, as_string=True, metadata={"title": "Price"})
    eligible_issuer = _text(50, required=True, title="Eligible issuer")
    currency_code = _read_only(fields.String)


class IssuerSchema(ResourceSchema):
    """A card programme."""

    name = _text(50, required=True, title="Name")
    currency_code = fields.String(
        allow_none=True,
        validate=validate.OneOf(sorted(ISO_4217), error="Must be an ISO 4217 currency code, like USD."),
        metadata={"title": "Currency code", "max_length": 3},
    )
    expires_after = fields.String(
        allow_none=True,
        validate=[validate.Length(max=20), validate.Regexp(
            EXPIRES_AFTER, error="Must be a number followed by d, w, m or y, like 45d, 3w, 1m, .5m or 1y."
        )],
        metadata={"title": "Expires after", "max_length": 20},
    )
    product_code_restrictions = _text(5000, title="Product code restrictions")

    @validates("expires_after")
    def _period_in_range(self, value, data_key: str) -> None:
        if value is not None and EXPIRES_AFTER.fullmatch(value):
            try:
                parse_period(value)
            except InvalidPeriod as error:
                raise ValidationError(f"Must be a valid period: {error}.") from None

    @validates("product_code_restrictions")
    def _patterns(self, value, data_key: str) -> None:
        try:
            parse_restrictions(value)
        except InvalidRestrictions as error:
            raise ValidationError(f"Must be comma-separated product codes: {error}.") from None
