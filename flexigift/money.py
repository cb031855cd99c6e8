"""Exact money: amounts live as integer minor units (cents) and never as floats.

Clients send amounts as JSON numbers (parsed as :class:`~decimal.Decimal`),
integers or strings; they leave as decimals with two places, or as whole
numbers where the tutorials show them that way (``"balance": 250``).
"""
from __future__ import annotations

import contextlib
import contextvars
import decimal
import re
from typing import Iterator

from .currencies import MAX_DECIMALS, decimals_of

#: The largest amount we accept: far beyond any gift card, far inside a BIGINT.
MAX_CENTS = 10**15
_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")


class InvalidAmount(ValueError):
    """Text or a number that is not an amount of money with at most two decimals."""


def parse_cents(value: object) -> int:
    """``value`` (int, Decimal or numeric string) as integer cents."""
    if isinstance(value, bool):
        raise InvalidAmount("must be an amount of money, not a boolean")
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, decimal.Decimal):
        cents = _decimal_cents(value)
    elif isinstance(value, str):
        if not _AMOUNT.fullmatch(value):
            raise InvalidAmount("must be a number with at most two decimals, like 50 or 12.50")
        cents = _decimal_cents(decimal.Decimal(value))
    else:
        raise InvalidAmount("must be an amount of money, like 50 or \"12.50\"")
    if abs(cents) > MAX_CENTS:
        raise InvalidAmount(f"must not exceed {format_cents(MAX_CENTS)}")
    return cents


def _decimal_cents(value: decimal.Decimal) -> int:
    if not value.is_finite():
        raise InvalidAmount("must be a finite number")
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount("must have at most two decimals")
    if abs(scaled) > MAX_CENTS:
        raise InvalidAmount(f"must not exceed {format_cents(MAX_CENTS)}")
    return int(scaled)


def to_decimal(cents: int) -> decimal.Decimal:
    """Cents as a two-place decimal: ``1250`` → ``Decimal('12.50')``."""
    return decimal.Decimal(cents).scaleb(-2)


#: 10 ** places, for each number of decimals a currency may have.
_UNITS = tuple(10 ** places for places in range(MAX_DECIMALS + 1))


def to_number(cents: int, currency_code: str | None = None) -> decimal.Decimal:
    """Minor units as the tutorials show a balance: whole amounts without decimals
    (in ``currency_code``'s minor units; cents when it is not given)."""
    whole, rest = divmod(cents, _UNITS[decimals_of(currency_code)])
    return minor_to_decimal(cents, currency_code) if rest else decimal.Decimal(whole)


def format_cents(cents: int, currency_code: str | None = None) -> str:
    """Minor units as text with the currency's decimals: ``5000`` → ``"50.00"`` (JPY ``"5000"``)."""
    return format(minor_to_decimal(cents, currency_code), "f")


#: The currency the amounts of the request body being loaded are in (None: 2 decimals).
_BODY_CURRENCY: contextvars.ContextVar[str | None] = contextvars.ContextVar("body_currency", default=None)


@contextlib.contextmanager
def amounts_in(currency_code: str | None) -> Iterator[None]:
    """Load the amounts of a body in ``currency_code``'s minor units (schemas.Money)."""
    token = _BODY_CURRENCY.set(currency_code)
    try:
        yield
    finally:
        _BODY_CURRENCY.reset(token)


def body_currency() -> str | None:
    return _BODY_CURRENCY.get()


# -- any currency ------------------------------------------------------------
def parse_minor(value: object, currency_code: str | None) -> int:
    """``value`` (int, Decimal or numeric string) as integer minor units of ``currency_code``:
    ``"1.250"`` BHD → ``1250``, ``1000`` JPY → ``1000``. More decimals than the currency
    has is an :class:`InvalidAmount` naming the currency."""
    places = decimals_of(currency_code)
    if isinstance(value, bool):
        raise InvalidAmount("must be an amount of money, not a boolean")
    if isinstance(value, int):
        amount = decimal.Decimal(value)
    elif isinstance(value, decimal.Decimal):
        amount = value
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value) and len(value) <= 40:
        amount = decimal.Decimal(value)
    else:
        raise InvalidAmount("must be an amount of money, like 50 or \"12.50\"")
    if not amount.is_finite():
        raise InvalidAmount("must be a finite number")
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        allowed = "no decimals" if places == 0 else f"at most {places} decimal{'s' if places > 1 else ''}"
        raise InvalidAmount(f"{currency_code or 'this currency'} has {allowed}")
    if abs(scaled) > MAX_CENTS:
        raise InvalidAmount(f"must not exceed {format_minor(MAX_CENTS, currency_code)}")
    return int(scaled)


def minor_to_decimal(minor: int, currency_code: str | None) -> decimal.Decimal:
    """Minor units as a decimal with the currency's places: ``1250`` BHD → ``1.250``."""
    return decimal.Decimal(minor).scaleb(-decimals_of(currency_code))


def format_minor(minor: int, currency_code: str | None) -> str:
    """Minor units as text with the currency's places: JPY ``"1000"``, BHD ``"1.250"``."""
    return format(minor_to_decimal(minor, currency_code), "f")
