"""CSRF tokens for the HTML browser's forms (double submit, signed).

A browser gets a random nonce in an HttpOnly, SameSite=Strict cookie; each
form of our pages carries ``_csrf``, the nonce signed with the server's CSRF
key. A form post is ours only when its ``_csrf`` is the signature of the
nonce its own cookie holds: another site can make a browser send the cookie
(or, SameSite aside, not even that) but can read neither it nor our pages.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "fg_csrf"
FIELD = "_csrf"


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def token_for(nonce: str, key: bytes) -> str:
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def valid(nonce: str | None, token: str | None, key: bytes) -> bool:
    if not nonce or not token or len(nonce) > 64:
        return False
    return hmac.compare_digest(token_for(nonce, key), token)
