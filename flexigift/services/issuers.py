"""Issuers: finding them by name (registering unknown ones with default settings)
and reading their expiry policy."""
from __future__ import annotations

import calendar
import datetime
import decimal
import re

import peewee

from ..db import database
from ..errors import Conflict
from ..models import GiftCard, Issuer, Product

DEFAULT_CURRENCY = "USD"
_PERIOD = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([dwmy])")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
#: The longest expiry policy accepted: longer is a typo, and would overflow dates.
MAX_PERIOD_DAYS = 36_525


def issuer_named(name: str) -> Issuer:
    """The issuer called ``name``, registered now if it is new.

    Safe against a concurrent registration of the same name: the loser of the
    race reads the winner's row (inside a savepoint, so the caller's
    transaction survives the failed insert).
    """
    issuer = Issuer.get_or_none(Issuer.name == name)
    if issuer is not None:
        return issuer
    try:
        with database.atomic():
            return Issuer.create(name=name, currency_code=DEFAULT_CURRENCY)
    except peewee.IntegrityError:
        return Issuer.get(Issuer.name == name)


class InvalidPeriod(ValueError):
    """An ``expires_after`` that is not a number and d, w, m or y, or is absurdly long."""


def parse_period(expires_after: str) -> tuple[decimal.Decimal, str]:
    """``"1.5m"`` → ``(Decimal("1.5"), "m")``; a period over a century is refused."""
    match = _PERIOD.fullmatch(expires_after)
    if match is None:
        raise InvalidPeriod("must be a number followed by d, w, m or y, like 45d, 3w, 1m, .5m or 1y")
    number, unit = decimal.Decimal(match.group(1)), match.group(2)
    if number * _DAYS[unit] > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"must not be longer than {MAX_PERIOD_DAYS} days (100 years)")
    return number, unit


def expiry_from(expires_after: str | None, today: datetime.date) -> datetime.date | None:
    """The expiry date of a card issued ``today`` under an ``expires_after`` policy.

    Days and weeks count days. Whole months and years are calendar months and
    years (``1m`` from 31 January is the last day of February); fractions of
    them count 30-day months and 365-day years, so ``.5m`` is 15 days, as in
    Foxy's subscription frequencies. No policy (or an unreadable one) → no expiry.
    """
    if not expires_after:
        return None
    try:
        number, unit = parse_period(expires_after)
    except InvalidPeriod:
        return None
    if unit in "my" and number == number.to_integral_value():
        return _add_months(today, int(number) * (12 if unit == "y" else 1))
    days = (number * _DAYS[unit]).to_integral_value(rounding=decimal.ROUND_HALF_UP)
    return today + datetime.timedelta(days=int(days))


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """``months`` calendar months after ``day``, on the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def check_currency_change(issuer: Issuer, currency: str) -> None:
    """409 when ``issuer`` would change currency while cards or products are priced in the
    one it has: changing it would silently re-denominate them."""
    if currency == issuer.currency_code:
        return
    cards = (GiftCard.select(GiftCard.id)
             .where(GiftCard.issuer == issuer.id, GiftCard.currency_code == issuer.currency_code).exists())
    products = Product.select(Product.id).where(Product.issuer == issuer.id).exists()
    if cards or products:
        held = " and ".join(name for name, used in (("gift cards", cards), ("products", products)) if used)
        raise Conflict(f"Issuer {issuer.name!r} has {held} priced in {issuer.currency_code}; its currency "
                       f"cannot change to {currency} while they are.", "currency_code",
                       logref="currency_in_use")
