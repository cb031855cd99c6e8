"""marshmallow schemas of the actions' bodies: issuing in bulk, generating codes,
redeeming, refunding, reloading and adjusting.

As with the resources' schemas, they validate plain state and report every
field at fault; their fields are also the fields of the Siren actions, HTML
forms and OPTIONS bodies that describe these actions.
"""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from .currencies import ISO_4217
from .schemas import Money
from .services.issuing import MAX_CODE_LENGTH, MAX_CODES, code_space_problem

_DIGITS = re.compile(r"[0-9]{1,12}")


def _text(max_length: int, title: str, description: str | None = None) -> fields.String:
    metadata = {"title": title, "max_length": max_length, "description": description}
    return fields.String(allow_none=True, validate=validate.Length(min=1, max=max_length),
                         metadata={key: value for key, value in metadata.items() if value})


class WholeNumber(fields.Integer):
    """A whole number: a JSON integer, or digits (as an HTML form sends them); never 6.5."""

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError("Must be a whole number, like 6.")
        if isinstance(value, str) and not _DIGITS.fullmatch(value.strip()):
            raise ValidationError("Must be a whole number, like 6.")
        return int(value)


def _whole(title: str, default: int, low: int, high: int) -> fields.Integer:
    return WholeNumber(
        load_default=default, validate=validate.Range(min=low, max=high),
        metadata={"title": title, "description": f"{low} to {high:,}; default {default}"},
    )


class CardTermsSchema(Schema):
    """What every card issued by one bulk request shares."""

    balance = Money(load_default=0, metadata={"title": "Balance of each card"})
    expiry_date = fields.Date(allow_none=True, metadata={
        "title": "Expiry date", "input": "date",
        "description": "default: from the issuer's expires_after; null: never expires"})
    single_use = fields.Boolean(load_default=False, metadata={"title": "Single use", "input": "checkbox"})
    rechargeable = fields.Boolean(load_default=True, metadata={"title": "Rechargeable", "input": "checkbox"})
    balance_max = Money(allow_none=True, load_default=None, metadata={"title": "Maximum balance"})

    @validates_schema
    def _balance_within_max(self, data, **kwargs) -> None:
        if data.get("balance_max") is not None and data.get("balance", 0) > data["balance_max"]:
            raise ValidationError("Must be at least the balance.", "balance_max")


class BulkCreateSchema(CardTermsSchema):
    """``{"card_ids": [...], "balance": 100}``: one card per card_id."""

    card_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), required=True,
        validate=validate.Length(min=1, max=MAX_CODES),
        metadata={"title": "Card IDs", "input": "text", "many": True,
                  "description": f"1 to {MAX_CODES:,} codes, comma- or newline-separated in a form"},
    )

    @validates("card_ids")
    def _distinct(self, value, data_key: str) -> None:
        seen: set[str] = set()
        repeated = sorted({card_id for card_id in value if card_id in seen or seen.add(card_id)})
        if repeated:
            raise ValidationError(f"Must not repeat a card_id: {', '.join(map(repr, repeated[:10]))}.")


class GenerateCodesSchema(CardTermsSchema):
    """Foxy's generate_codes: ``length`` (prefix included), ``number_of_codes``, ``prefix``."""

    length = _whole("Length of each code (prefix included)", 6, 1, MAX_CODE_LENGTH)
    number_of_codes = _whole("Number of codes", 10, 1, MAX_CODES)
    prefix = fields.String(load_default="", validate=validate.Length(max=MAX_CODE_LENGTH - 1),
                           metadata={"title": "Code prefix", "max_length": MAX_CODE_LENGTH - 1})

    @validates_schema
    def _room_for_codes(self, data, **kwargs) -> None:
        problem = code_space_problem(data["length"], data["number_of_codes"], data["prefix"])
        if problem:
            raise ValidationError(problem, "length")


class RedeemSchema(Schema):
    """Debit a card for a product: ``amount`` defaults to the product's price."""

    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: the product's price"})
    product_id = _text(50, "Product ID", "required, unless the body links the product (fg:product)")
    order_reference = _text(100, "Order reference")
    user_id = _text(50, "User ID", "the shopper paying: the card must be linked to this user "
                    "(a checkout token must name one unless it found the card by its code)")
    allow_partial = fields.Boolean(load_default=False, metadata={
        "title": "Allow partial", "input": "checkbox",
        "description": "debit what the card holds when it holds less than the amount"})


class RefundSchema(Schema):
    """Return money of one redemption to its card: ``amount`` defaults to all that remains."""

    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: all that is left to refund"})
    order_reference = _text(100, "Order reference")


class AdjustSchema(Schema):
    """An admin's correction of a balance: a signed amount and why."""

    amount = Money(signed=True, required=True, metadata={
        "title": "Amount", "description": "signed: positive adds, negative takes away; never below zero"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "title": "Reason", "max_length": 200, "description": "required: why the balance is corrected"})


class ReloadSchema(Schema):
    """Add money to a rechargeable card."""

    amount = Money(positive=True, required=True, metadata={"title": "Amount"})
    order_reference = _text(100, "Order reference")


class AuthorizeSchema(Schema):
    """Hold an amount of a card's available balance: ``amount`` defaults to the product's price."""

    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: the product's price"})
    product_id = _text(50, "Product ID", "required unless amount is sent (or the body links the "
                       "product, fg:product)")
    order_reference = _text(100, "Order reference")
    user_id = _text(50, "User ID", "the shopper paying: the card must be linked to this user "
                    "(a checkout token must name one unless it found the card by its code)")


class CaptureSchema(Schema):
    """Debit all or part of what a hold (or an order's holds) reserve; the rest is released."""

    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: all that is held"})


class VoidSchema(Schema):
    """Release a hold (or every active hold of an order): an empty body."""


class OrderRefundSchema(Schema):
    """Return money an order paid to its cards, in the reverse order of charging."""

    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: all that the order paid and was not refunded"})


#: The largest number of cards one order may be paid with.
MAX_PAYMENTS = 20


class PaymentSchema(Schema):
    """One card paying an order: ``amount`` omitted fills from what the card has available."""

    card_id = WholeNumber(required=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "title": "Gift card id", "description": "the card's id (its URL's last segment)"})
    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "default: what the card has available, up to what is left"})


class Payment(fields.Field):
    """``{"card_id": 5, "amount": "20.00"}``, or, typed into an HTML form, ``5:20.00`` or ``5``."""

    def _deserialize(self, value, attr, data, **kwargs) -> dict:
        if isinstance(value, str):
            card_id, _, amount = value.partition(":")
            value = {"card_id": card_id.strip()}
            if amount.strip():
                value["amount"] = amount.strip()
        if not isinstance(value, dict):
            raise ValidationError('Must be an object like {"card_id": 5, "amount": "20.00"}.')
        try:
            return PaymentSchema().load(value)
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class OrderSchema(Schema):
    """An order paid by one or more cards, all or nothing."""

    order_reference = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                    metadata={"title": "Order reference", "max_length": 100})
    amount = Money(positive=True, load_default=None, allow_none=True, metadata={
        "title": "Amount", "description": "required unless product_id is sent (its price)"})
    product_id = _text(50, "Product ID", "the product bought: its price is the default amount, and "
                       "each card must be able to pay for it")
    currency_code = fields.String(allow_none=True, load_default=None,
                                  validate=validate.OneOf(sorted(ISO_4217), error="Must be an ISO 4217 "
                                                          "currency code, like USD."),
                                  metadata={"title": "Currency code", "max_length": 3,
                                            "description": "default: the product's currency"})
    mode = fields.String(load_default="capture", validate=validate.OneOf(["capture", "authorize"]),
                         metadata={"title": "Mode", "options": ("capture", "authorize"),
                                   "description": "capture: debit now; authorize: hold now"})
    user_id = _text(50, "User ID", "the shopper paying: every card must be linked to this user "
                    "(a checkout token must name one unless it found the cards by their codes)")
    payments = fields.List(Payment(), required=True,
                           validate=validate.Length(min=1, max=MAX_PAYMENTS),
                           metadata={"title": "Payments", "input": "text", "many": True,
                                     "description": "[{card_id, amount}], in the order the cards are "
                                     "charged; in a form, card_id:amount (or card_id alone), "
                                     "comma-separated"})

    @validates_schema
    def _amount_or_product(self, data, **kwargs) -> None:
        if data.get("amount") is None and data.get("product_id") is None:
            raise ValidationError("Missing: send amount, or product_id to pay its price.", "amount")
        if data.get("product_id") is None and data.get("currency_code") is None:
            raise ValidationError("Missing: send currency_code, or product_id to pay in its currency.",
                                  "currency_code")
        cards = [payment["card_id"] for payment in data.get("payments") or []]
        if len(set(cards)) != len(cards):
            raise ValidationError("Must not name a card twice.", "payments")
