"""Configuration, read in one place from the environment, with safe defaults.

Every setting is an environment variable (the command line's options carry the
same names); a value that cannot be read is a :class:`ConfigError` naming the
variable, raised when the server starts, never a traceback halfway through a
request.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Mapping
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///flexigift.db"
#: The names a development server answers to (and any server, unless told more).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says what would do."""


_LIMIT = re.compile(r"([0-9]+)/([0-9]+)")


class InvalidLimit(ValueError):
    """A limit that is not ``<failures>/<seconds>``."""


@dataclass(frozen=True)
class Limit:
    """A rate limit: at most ``failures`` failures per ``seconds``."""

    failures: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        match = _LIMIT.fullmatch(text.strip())
        if match is None or int(match.group(1)) < 1 or not 1 <= int(match.group(2)) <= 86_400:
            raise InvalidLimit(f"{text!r} is not a limit: write <failures>/<seconds>, like 20/600")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.failures}/{self.seconds}"


def _flag(name: str, value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"on", "true", "1", "yes"}:
        return True
    if lowered in {"off", "false", "0", "no"}:
        return False
    raise ConfigError(f"{name} must be on or off, not {value!r}")


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _limit(name: str, value: str | None, default: Limit) -> Limit:
    if value is None or not value.strip():
        return default
    try:
        return Limit.parse(value)
    except InvalidLimit as error:
        raise ConfigError(f"{name}: {error}") from None


def _whole(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None or not value.strip():
        return default
    digits = value.strip()
    # ASCII digits only: str.isdigit() also takes "²" and other digits int() refuses or reads.
    if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return int(digits)


_DURATION = re.compile(r"([0-9]+)\s*([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def _duration(name: str, value: str | None, default: int, low: int, high: int) -> int:
    """Seconds, from a whole number of seconds or a duration like ``90s``, ``30m``, ``24h``, ``7d``."""
    if value is None or not value.strip():
        return default
    match = _DURATION.fullmatch(value.strip().lower())
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else None
    if seconds is None or not low <= seconds <= high:
        raise ConfigError(f"{name} must be a duration from {low} to {high} seconds, in seconds or like "
                          f"30m, 24h or 7d, not {value!r}")
    return seconds


def _public_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"FLEXIGIFT_PUBLIC_URL must be an http(s) URL like "
                          f"https://api.example.com/, not {value!r}")
    return value.rstrip("/") + "/"


def _origins(value: str | None) -> tuple[str, ...]:
    origins = []
    for origin in _list(value):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ConfigError(f"FLEXIGIFT_CORS_ORIGINS holds {origin!r}: each origin is "
                              "scheme://host[:port], like https://hal-explorer.example.com")
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


@dataclass(frozen=True)
class Config:
    """Everything the application reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    auth: bool = True
    max_body_bytes: int = 1024 * 1024
    pool_size: int = 16
    #: The URL clients reach the API at, when it differs from what the server sees
    #: (behind a proxy); links are built from it, never from an unchecked Host.
    public_url: str | None = None
    #: Host names requests may name (``*`` for any, ``.example.com`` for a domain and
    #: its subdomains); the loopback names and the public URL's host always.
    allowed_hosts: tuple[str, ...] = ()
    #: Origins of browser clients hosted elsewhere (a HAL browser) allowed by CORS.
    cors_origins: tuple[str, ...] = ()
    #: Replaces the random keys kept in the database (CSRF, ETags).
    secret_key: str | None = None
    #: Failed authentications allowed per client address (and per token).
    auth_failures: Limit = field(default_factory=lambda: Limit(20, 600))
    #: Failed look-ups of a card by its code allowed per client address and per token.
    lookup_failures: Limit = field(default_factory=lambda: Limit(30, 600))
    #: How long a checkout may act on a card after finding it by its code.
    lookup_grant_seconds: int = 3600
    #: How many proxies in front of the server set X-Forwarded-For (whose address counts).
    trusted_proxies: int = 0
    #: How far a filtered collection is counted; past it the total is "more than" this.
    count_cap: int = 1_000
    #: Whether webhook targets may be loopback, link-local or private addresses (tests, a LAN).
    webhooks_allow_private: bool = False
    #: ``flexigift serve`` runs a deliverer thread in its process (development).
    serve_deliverer: bool = True
    #: How long an authorization hold reserves its amount (``FLEXIGIFT_HOLD_SECONDS``).
    hold_seconds: int = 7 * 86_400
    #: How long an ``Idempotency-Key`` is remembered (``FLEXIGIFT_IDEMPOTENCY_TTL``); after
    #: that a request with the same key is a new request, and its record may be pruned.
    idempotency_ttl: int = 86_400
    #: How many related items ``zoom`` embeds per item at most (``FLEXIGIFT_ZOOM_CAP``).
    zoom_cap: int = 100
    #: How long a write waits for another's lock before answering 503 (``FLEXIGIFT_LOCK_WAIT``):
    #: None for the database's default (:data:`flexigift.db.LOCK_WAIT_SECONDS`).
    lock_wait_seconds: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Config":
        """The configuration the environment describes (``overrides`` win where not None)."""
        env = os.environ if env is None else env
        config = cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            auth=_flag("FLEXIGIFT_AUTH", env.get("FLEXIGIFT_AUTH"), True),
            public_url=_public_url(env.get("FLEXIGIFT_PUBLIC_URL")),
            allowed_hosts=_list(env.get("FLEXIGIFT_ALLOWED_HOSTS")),
            cors_origins=_origins(env.get("FLEXIGIFT_CORS_ORIGINS")),
            secret_key=env.get("FLEXIGIFT_SECRET_KEY") or None,
            auth_failures=_limit("FLEXIGIFT_AUTH_FAILURES", env.get("FLEXIGIFT_AUTH_FAILURES"),
                                 Limit(20, 600)),
            lookup_failures=_limit("FLEXIGIFT_LOOKUP_FAILURES", env.get("FLEXIGIFT_LOOKUP_FAILURES"),
                                   Limit(30, 600)),
            lookup_grant_seconds=_whole("FLEXIGIFT_LOOKUP_GRANT_SECONDS",
                                        env.get("FLEXIGIFT_LOOKUP_GRANT_SECONDS"), 3600, 1, 30 * 86_400),
            trusted_proxies=_whole("FLEXIGIFT_TRUSTED_PROXIES", env.get("FLEXIGIFT_TRUSTED_PROXIES"),
                                   0, 0, 10),
            count_cap=_whole("FLEXIGIFT_COUNT_CAP", env.get("FLEXIGIFT_COUNT_CAP"), 1_000, 1, 10**9),
            webhooks_allow_private=_flag("FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE",
                                         env.get("FLEXIGIFT_WEBHOOKS_ALLOW_PRIVATE"), False),
            serve_deliverer=_flag("FLEXIGIFT_SERVE_DELIVERER", env.get("FLEXIGIFT_SERVE_DELIVERER"), True),
            hold_seconds=_whole("FLEXIGIFT_HOLD_SECONDS", env.get("FLEXIGIFT_HOLD_SECONDS"), 7 * 86_400, 1,
                                366 * 86_400),
            idempotency_ttl=_duration("FLEXIGIFT_IDEMPOTENCY_TTL", env.get("FLEXIGIFT_IDEMPOTENCY_TTL"), 86_400,
                                      1, 366 * 86_400),
            zoom_cap=_whole("FLEXIGIFT_ZOOM_CAP", env.get("FLEXIGIFT_ZOOM_CAP"), 100, 1, 10_000),
            lock_wait_seconds=_duration("FLEXIGIFT_LOCK_WAIT", env.get("FLEXIGIFT_LOCK_WAIT"), None, 1, 600),
        )
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def host_names(self) -> tuple[str, ...]:
        """Every host name requests may name."""
        public = urlsplit(self.public_url).hostname if self.public_url else None
        return tuple(dict.fromkeys([*LOOPBACK_HOSTS, *([public] if public else []),
                                    *(host.lower() for host in self.allowed_hosts)]))
