"""Small conversions from stored values to the values resources show."""
from __future__ import annotations

import datetime
import decimal
import json

from representations.encoding import dumps, json_value

UTC = datetime.timezone.utc


def iso(moment: datetime.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset, to the second (``isoformat``
    given its arguments by position: by keyword it costs a third more)."""
    if moment.__class__ is datetime.datetime and moment.tzinfo is None:  # as stored: the usual case
        return f"{moment.isoformat('T', 'seconds')}+00:00"
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite hands back text it could not parse
        moment = datetime.datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{moment.isoformat('T', 'seconds')}+00:00"


def day(value: datetime.date | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def json_object(text: str | None):
    """Stored JSON as it was sent: a number with a fraction stays exact (a Decimal)."""
    return None if text is None else json.loads(text, parse_float=decimal.Decimal)


def json_text(value) -> str | None:
    """JSON text of a value from a request body (numbers with a fraction arrive as Decimals)."""
    return None if value is None else dumps(json_value(value)).decode()
