"""Configuration, read in one place from the environment, with safe defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Mapping

DEFAULT_DATABASE_URL = "sqlite:///flexigift.db"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"on", "true", "1", "yes"}:
        return True
    if lowered in {"off", "false", "0", "no"}:
        return False
    raise ValueError(f"expected on or off, got {value!r}")


@dataclass(frozen=True)
class Config:
    """Everything the application reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    auth: bool = True
    max_body_bytes: int = 1024 * 1024
    pool_size: int = 16
    public_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Config":
        """The configuration named by ``DATABASE_URL`` and ``FLEXIGIFT_AUTH``."""
        env = os.environ if env is None else env
        config = cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            auth=_flag(env.get("FLEXIGIFT_AUTH"), True),
        )
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})
