"""What a client can send, the server can bear: the size of a request's URL, headers and body.

A body sent in chunks (``Transfer-Encoding: chunked``, no ``Content-Length``) is read
here, once, up to one byte past ``max_body_bytes``: under the limit it is handed on
whole with its ``Content-Length``; past it the request is refused whole (413), so no
server can cut it short at the limit and let the rest through as if it were complete
(Werkzeug reads such a stream only up to the limit). Every WSGI server we name
behaves the same: waitress reads chunks itself and sets ``Content-Length``, granian
and gunicorn hand the chunks over as they come.

The URL (path and query string) is at most :data:`MAX_URL_BYTES` (414) and each header
value at most :data:`MAX_HEADER_BYTES`, all of them at most :data:`MAX_HEADERS_BYTES`
(431), whichever server is in front: gunicorn refuses longer ones itself (its own
414 and 431, in HTML), granian and waitress pass them on to us.
"""
from __future__ import annotations

import io

from ..errors import ApiError, PayloadTooLarge

#: The longest path and query string taken, in bytes (as the server hands them over).
MAX_URL_BYTES = 8 * 1024
#: The longest value of one header.
MAX_HEADER_BYTES = 8 * 1024
#: The most bytes all the header values may hold together.
MAX_HEADERS_BYTES = 32 * 1024
#: The headers WSGI gives without the ``HTTP_`` prefix.
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
#: The environ key that marks a chunked body longer than the limit.
TOO_LARGE = "flexigift.body_too_large"
READ_SIZE = 64 * 1024


class UriTooLong(ApiError):
    status, logref = 414, "uri_too_long"


class HeaderFieldsTooLarge(ApiError):
    status, logref = 431, "header_fields_too_large"


class ChunkedBodyLimit:
    """WSGI middleware: read a body without ``Content-Length`` up to ``max_body_bytes`` + 1
    bytes; hand it on as a whole body with its length, or mark it too large."""

    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ, start_response):
        if _without_length(environ):
            body, whole = _read_at_most(environ["wsgi.input"], self.max_body_bytes)
            if whole:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
            else:
                environ["wsgi.input"] = io.BytesIO()
                environ["CONTENT_LENGTH"] = "0"
                environ[TOO_LARGE] = True
        return self.app(environ, start_response)


def _without_length(environ) -> bool:
    """Whether the request sends a body of no stated length (in chunks)."""
    if (environ.get("CONTENT_LENGTH") or "").strip():
        return False
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` + 1 bytes of ``stream``; and whether that was all of it."""
    parts, size = [], 0
    while size <= limit:
        part = stream.read(min(READ_SIZE, limit + 1 - size))
        if not part:
            return b"".join(parts), True
        parts.append(part)
        size += len(part)
    return b"", False


def refuse_oversized(environ, max_body_bytes: int) -> None:
    """Raise the 414, 431 or 413 a request's size earns, before anything reads it."""
    url = len(environ.get("SCRIPT_NAME", "")) + len(environ.get("PATH_INFO", "")) \
        + len(environ.get("QUERY_STRING", ""))
    if url > MAX_URL_BYTES:
        raise UriTooLong(f"The URL (path and query string) is longer than the limit of "
                         f"{MAX_URL_BYTES} bytes: {url} bytes.", logref=UriTooLong.logref)
    if _headers_size(environ) > MAX_HEADER_BYTES:  # under it, no one value can be over the limit
        _refuse_long_headers(environ)
    if environ.get(TOO_LARGE) or _stated_length(environ) > max_body_bytes:
        raise PayloadTooLarge(f"The request body is larger than the limit of {max_body_bytes} bytes.")


def _headers_size(environ) -> int:
    """The bytes of all the header values together."""
    return sum([len(value) for key, value in environ.items()
                if (key[:5] == "HTTP_" or key in _UNPREFIXED) and isinstance(value, str)])


def _refuse_long_headers(environ) -> None:
    """431 naming the header over :data:`MAX_HEADER_BYTES`, or for all of them together."""
    total = 0
    for key, value in environ.items():
        if not (key.startswith("HTTP_") or key in _UNPREFIXED):
            continue
        size = len(value) if isinstance(value, str) else 0
        total += size
        if size > MAX_HEADER_BYTES:
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            raise HeaderFieldsTooLarge(f"The {name} header is longer than the limit of "
                                       f"{MAX_HEADER_BYTES} bytes.", name)
    if total > MAX_HEADERS_BYTES:
        raise HeaderFieldsTooLarge(f"The headers together are longer than the limit of "
                                   f"{MAX_HEADERS_BYTES} bytes.")


def _stated_length(environ) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
