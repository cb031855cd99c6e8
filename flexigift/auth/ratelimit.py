"""Rate limits on failures, kept in the database so they hold across every
server process (and host) sharing it: failed authentications, and failed
attempts to find a card by its code (OWASP OAT-002, token cracking).

Each subject (a client address, a token) has a counter per fixed window of
time. Once a subject has failed ``failures`` times in a window, every further
attempt of that kind is refused with 429 until the window ends, successful or
not, so that a guesser learns nothing more. Failures are counted in their own
short transaction, which commits even though the request that failed rolls
back.
"""
from __future__ import annotations

import math
import time

from ..config import Limit
from ..errors import TooManyRequests
from ..models import RateCounter


def _window(limit: Limit, now: float) -> int:
    return int(now // limit.seconds)


def check(kind: str, subjects: list[str], limit: Limit, what: str) -> None:
    """429 when any of ``subjects`` has used up its failures of ``kind`` in this window."""
    now = time.time()
    window = _window(limit, now)
    keys = [f"{kind}:{subject}" for subject in subjects]
    exhausted = (RateCounter.select(RateCounter.key)
                 .where(RateCounter.key.in_(keys), RateCounter.window == window,
                        RateCounter.hits >= limit.failures)
                 .exists())
    if exhausted:
        retry = max(1, math.ceil((window + 1) * limit.seconds - now))
        raise TooManyRequests(
            f"Too many failed {what} from this client (at most {limit.failures} in "
            f"{limit.seconds} seconds); try again in {retry} seconds.",
            headers={"Retry-After": str(retry)}, logref="rate_limited")


def record_failure(kind: str, subjects: list[str], limit: Limit) -> None:
    """Count one failure of ``kind`` against each subject (and forget old windows)."""
    now = time.time()
    window = _window(limit, now)
    db = RateCounter._meta.database
    with db.atomic():
        for subject in subjects:
            key = f"{kind}:{subject}"
            (RateCounter.insert(key=key, window=window, hits=1)
             .on_conflict(conflict_target=[RateCounter.key, RateCounter.window],
                          update={RateCounter.hits: RateCounter.hits + 1})
             .execute())
            RateCounter.delete().where(RateCounter.key == key, RateCounter.window < window).execute()
