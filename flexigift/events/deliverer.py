"""The deliverer: POSTs each pending delivery to its subscription's URL, after the
change committed, signed, in order per subscription, retrying with backoff.

Work is claimed one delivery at a time, the head (oldest pending) of its
subscription: a subscription's next delivery waits until the one before it is
delivered or has failed for good. On PostgreSQL the claim is a row lock
(``FOR UPDATE SKIP LOCKED``) held while the delivery is POSTed and its outcome
written, so any number of deliverers share the work and each attempt goes out
once; one killed mid-delivery loses nothing (its transaction rolls back and the
delivery is still pending). On SQLite, which has one writer at a time, run one
deliverer: it reads the head without a lock and writes the outcome after.

Receivers may see an event twice (after a crash between their answer and our
commit): every delivery carries ``Flexigift-Event-Id`` to dedupe on.
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import peewee

from representations.encoding import dumps

from ..db import is_postgres
from ..models import Delivery, Event, Webhook, utcnow
from .lapses import announce
from .signing import signature
from .targets import target_problem

log = logging.getLogger("flexigift.deliverer")


class _ForkGuard:
    """What the deliverer holds while it works with the database, so that no fork of its
    process happens meanwhile: ``flexigift serve`` runs it as a thread of the process that
    forks granian's workers. A child forked while that thread was inside SQLite (or libpq,
    or a lock of ours) starts with a lock that no thread of its own will ever release, and
    its first query waits forever. A fork waits for the thread's database work to end; the
    thread lets forks go on while it waits for a receiver's answer or for more work."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork_in_parent,
                                after_in_child=self._after_fork_in_child)

    @contextmanager
    def held(self):
        self._lock.acquire()
        self._holder = threading.get_ident()
        try:
            yield
        finally:
            self._holder = None
            self._lock.release()

    @contextmanager
    def released(self):
        """Forks may go on meanwhile (a no-op in a thread that does not hold the guard)."""
        if self._holder != threading.get_ident():
            yield
            return
        self._holder = None
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._holder = threading.get_ident()

    def _before_fork(self) -> None:
        if self._holder != threading.get_ident():  # a fork from within would wait for itself
            self._lock.acquire()

    def _after_fork_in_parent(self) -> None:
        if self._holder != threading.get_ident():
            self._lock.release()

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._holder = None


_FORK_GUARD = _ForkGuard()

HAL_JSON = "application/hal+json"


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are sent and retried (read from the environment by :meth:`from_env`)."""

    #: Seconds a receiver has to answer.
    timeout: float = 10.0
    #: The first retry's delay in seconds; each next one doubles (with jitter), up to ``backoff_cap``.
    backoff: float = 30.0
    backoff_cap: float = 6 * 3600.0
    #: Attempts before a delivery is marked failed (the defaults retry for over a day).
    max_attempts: int = 14
    #: Consecutive failed attempts after which a subscription is paused.
    pause_after: int = 25
    #: Seconds an idle deliverer waits before looking for work again.
    poll_interval: float = 1.0
    #: Seconds between two sweeps for holds that lapsed and cards that expired (their events).
    sweep_interval: float = 60.0
    allow_private: bool = False
    #: The root URL of the links in delivered events (FLEXIGIFT_PUBLIC_URL).
    public_url: str = ""

    @classmethod
    def from_env(cls, env=None, **overrides) -> "DeliverySettings":
        env = os.environ if env is None else env
        number = lambda name, default, kind=float: kind(env.get(name) or default)  # noqa: E731
        settings = cls(
            timeout=number("FLEXIGIFT_WEBHOOK_TIMEOUT", cls.timeout),
            backoff=number("FLEXIGIFT_WEBHOOK_BACKOFF", cls.backoff),
            backoff_cap=number("FLEXIGIFT_WEBHOOK_BACKOFF_CAP", cls.backoff_cap),
            max_attempts=number("FLEXIGIFT_WEBHOOK_ATTEMPTS", cls.max_attempts, int),
            pause_after=number("FLEXIGIFT_WEBHOOK_PAUSE_AFTER", cls.pause_after, int),
            poll_interval=number("FLEXIGIFT_WEBHOOK_POLL", cls.poll_interval),
            sweep_interval=number("FLEXIGIFT_LAPSE_SWEEP", cls.sweep_interval),
            allow_private=(env.get("FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE") or "").lower() in ("on", "1", "true", "yes"),
            public_url=(env.get("FLEXIGIFT_PUBLIC_URL") or "").rstrip("/"),
        )
        return cls(**{**settings.__dict__, **overrides})

    def delay(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: exponential, with up to 50% jitter added."""
        base = min(self.backoff_cap, self.backoff * 2 ** (attempts - 1))
        return base * random.uniform(1.0, 1.5)


@dataclass
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer, not a new target (it could point anywhere)


_OPENER = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))  # never via a proxy


def event_document(event: Event, root: str = "") -> dict[str, Any]:
    """The event as HAL+JSON (what ``GET /events/<id>`` shows)."""
    links: dict[str, Any] = {"self": {"href": f"{root}/events/{event.id}"}}
    return {
        "_links": links,
        "type": event.type,
        "resource": event.resource,
        "resource_id": event.resource_id,
        "representation": json.loads(event.representation),
        "actor": None if event.actor_name is None else {"name": event.actor_name, "role": event.actor_role},
        "id": event.id,
        "date_created": f"{event.date_created.isoformat(timespec='seconds')}+00:00"
        if hasattr(event.date_created, "isoformat") else event.date_created,
    }


def post(webhook: Webhook, event: Event, settings: DeliverySettings) -> Outcome:
    """POST ``event`` to ``webhook``: the receiver's status code, or why there is none."""
    problem = target_problem(webhook.url, settings.allow_private)
    if problem:
        return Outcome(None, f"the URL {problem}")
    body = dumps(event_document(event, settings.public_url))
    request = urllib.request.Request(webhook.url, data=body, method="POST", headers={
        "Content-Type": HAL_JSON, "User-Agent": "Flexigift-Webhooks/1",
        "Flexigift-Event-Id": str(event.id), "Flexigift-Event-Type": event.type,
        "Flexigift-Signature": signature(webhook.secret, body),
    })
    try:
        with _OPENER.open(request, timeout=settings.timeout) as response:
            response.read(65536)
            return Outcome(response.status, None)
    except urllib.error.HTTPError as error:
        return Outcome(error.code, f"HTTP {error.code}")
    except TimeoutError:
        return Outcome(None, f"no answer within {settings.timeout:g} s")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        text = "no answer within the timeout" if isinstance(reason, TimeoutError) else str(reason)
        return Outcome(None, text[:300])


def _head_of_each_subscription(now) -> peewee.ModelSelect:
    earlier = Delivery.alias()
    waiting = earlier.select(earlier.id).where((earlier.webhook == Delivery.webhook)
                                               & (earlier.status == "pending") & (earlier.id < Delivery.id))
    return (Delivery.select(Delivery)
            .join(Webhook, on=(Delivery.webhook == Webhook.id))
            .where((Delivery.status == "pending") & (Delivery.next_attempt_at <= now)
                   & (Webhook.status == "active") & ~peewee.fn.EXISTS(waiting))
            .order_by(Delivery.id).limit(1))


def claim(now=None) -> Delivery | None:
    """The next delivery due (locked against other deliverers on PostgreSQL)."""
    query = _head_of_each_subscription(now or utcnow())
    if is_postgres():
        query = query.for_update(of=Delivery, skip_locked=True)
    return query.first()


def record(delivery: Delivery, webhook: Webhook, outcome: Outcome, settings: DeliverySettings) -> None:
    """Write what became of one attempt: delivered, retried later, or failed; pause a
    subscription that keeps failing."""
    now = utcnow()
    attempts = delivery.attempts + 1
    changes: dict[Any, Any] = {Delivery.attempts: attempts, Delivery.last_status_code: outcome.status_code,
                               Delivery.last_error: outcome.error, Delivery.date_modified: now}
    if outcome.delivered:
        changes.update({Delivery.status: "delivered", Delivery.delivered_at: now})
        Webhook.update(consecutive_failures=0).where(Webhook.id == webhook.id).execute()
    else:
        if attempts >= settings.max_attempts:
            changes[Delivery.status] = "failed"
        else:
            changes[Delivery.next_attempt_at] = now + timedelta(seconds=settings.delay(attempts))
        _count_failure(webhook, outcome, settings, now)
    Delivery.update(changes).where(Delivery.id == delivery.id).execute()


def _count_failure(webhook: Webhook, outcome: Outcome, settings: DeliverySettings, now) -> None:
    failures = webhook.consecutive_failures + 1
    update: dict[Any, Any] = {Webhook.consecutive_failures: failures}
    if failures >= settings.pause_after:
        update.update({Webhook.status: "paused", Webhook.date_modified: now,
                       Webhook.paused_reason: f"paused after {failures} failed deliveries in a row "
                                              f"(last: {outcome.error or outcome.status_code}); "
                                              "PATCH status to active to resume"})
    Webhook.update(update).where(Webhook.id == webhook.id).execute()


def deliver_one(db: peewee.Database, settings: DeliverySettings) -> bool:
    """Claim, send and record one delivery; whether there was one."""
    if is_postgres(db):
        with db.atomic():
            delivery = claim()
            if delivery is None:
                return False
            _attempt(delivery, settings)
        return True
    delivery = claim()
    if delivery is None:
        return False
    webhook, event = Webhook.get_by_id(delivery.webhook_id), Event.get_by_id(delivery.event_id)
    with _FORK_GUARD.released():
        outcome = post(webhook, event, settings)
    with db.atomic():
        record(delivery, webhook, outcome, settings)
    return True


def _attempt(delivery: Delivery, settings: DeliverySettings) -> None:
    webhook, event = Webhook.get_by_id(delivery.webhook_id), Event.get_by_id(delivery.event_id)
    with _FORK_GUARD.released():  # the claim's transaction stays open, idle, meanwhile
        outcome = post(webhook, event, settings)
    record(delivery, webhook, outcome, settings)


def deliver_due(db: peewee.Database, settings: DeliverySettings, limit: int = 1000) -> int:
    """Send what is due, up to ``limit`` deliveries; how many were attempted."""
    sent = 0
    with db.connection_context():
        while sent < limit and deliver_one(db, settings):
            sent += 1
    return sent


def run(db: peewee.Database, settings: DeliverySettings, stop: threading.Event) -> None:
    """Deliver until ``stop`` is set, looking for work every ``poll_interval`` when idle,
    and announcing what lapsed or expired every ``sweep_interval``. Forks of this process
    wait while it works with the database (:class:`_ForkGuard`)."""
    next_sweep = 0.0
    while not stop.is_set():
        try:
            with _FORK_GUARD.held():
                if time.monotonic() >= next_sweep:
                    announce(db)
                    next_sweep = time.monotonic() + settings.sweep_interval
                sent = deliver_due(db, settings)
            if sent == 0:
                stop.wait(settings.poll_interval)
        except peewee.PeeweeException as error:  # the database went away: try again later
            log.warning("deliverer: %s", error)
            stop.wait(settings.poll_interval)
        except Exception:  # noqa: BLE001 (a deliverer outlives one bad delivery; it stays pending)
            log.exception("deliverer: unexpected error")
            stop.wait(settings.poll_interval)


def start_thread(db: peewee.Database, settings: DeliverySettings) -> threading.Event:
    """A deliverer in a daemon thread of this process (``flexigift serve``); set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run, args=(db, settings, stop), name="flexigift-deliverer", daemon=True).start()
    return stop
