"""The errors a request can end in. Raise them anywhere; one handler renders them.

Each carries its HTTP status, a ``logref`` (a stable machine-readable name),
a message for people and, where one field is at fault, that field's name.
"""
from __future__ import annotations

from typing import Any, Iterable


class ApiError(Exception):
    """A failed request, rendered in the client's negotiated media type."""

    status = 400
    logref = "bad_request"
    #: Whether this refusal is a failed attempt to find a card by its code (which
    #: is rate limited, so that codes cannot be guessed).
    failed_lookup = False

    def __init__(self, message: str, field: str | None = None, *,
                 errors: Iterable[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, logref: str | None = None,
                 failed_lookup: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        if logref:
            self.logref = logref
        if failed_lookup:
            self.failed_lookup = True
        self.links: dict[str, Any] = {}  # where to go from here (a sign-in page for a 401)
        self._errors = list(errors) if errors is not None else None

    def counting_as_failed_lookup(self) -> "ApiError":
        """This error, marked as a failed attempt to find a card by its code."""
        self.failed_lookup = True
        return self

    def errors(self) -> list[dict[str, Any]]:
        """One entry per problem: ``logref``, ``message`` and, when known, ``field``."""
        if self._errors is not None:
            return self._errors
        entry: dict[str, Any] = {"logref": self.logref, "message": self.message}
        if self.field is not None:
            entry["field"] = self.field
        return [entry]


class BadRequest(ApiError):
    status, logref = 400, "bad_request"


class Unauthorized(ApiError):
    status, logref = 401, "unauthorized"


class Forbidden(ApiError):
    status, logref = 403, "forbidden"


class NotFound(ApiError):
    status, logref = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, logref = 405, "method_not_allowed"


class NotAcceptable(ApiError):
    status, logref = 406, "not_acceptable"


class Conflict(ApiError):
    status, logref = 409, "conflict"


class PreconditionFailed(ApiError):
    status, logref = 412, "precondition_failed"


class PreconditionRequired(ApiError):
    status, logref = 428, "precondition_required"


class TooManyRequests(ApiError):
    """429: too many failures from this address or token; ``Retry-After`` says when to retry."""

    status, logref = 429, "rate_limited"


class PayloadTooLarge(ApiError):
    status, logref = 413, "payload_too_large"


class ServiceUnavailable(ApiError):
    status = 503
    logref = "database_unavailable"


class UnsupportedMediaType(ApiError):
    status, logref = 415, "unsupported_media_type"


class ValidationFailed(ApiError):
    """422: the body is well-formed but its content is not acceptable."""

    status, logref = 422, "validation_failed"

    @classmethod
    def from_messages(cls, messages: dict) -> "ValidationFailed":
        """From marshmallow's ``{field: [message, …]}`` (nested for lists)."""
        errors = [
            {"logref": cls.logref, "message": f"{field}: {message}", "field": field}
            for field, message in _flatten(messages)
        ]
        summary = "; ".join(error["message"] for error in errors)
        return cls(summary or "invalid request body", errors=errors)

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationFailed":
        return cls.from_messages({field: [message]})


def _flatten(messages: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, name)
    elif isinstance(messages, (list, tuple)):
        for message in messages:
            if isinstance(message, (dict, list, tuple)):
                yield from _flatten(message, prefix)
            else:
                yield prefix or "_body", _unknown_field_wording(str(message))
    else:
        yield prefix or "_body", str(messages)


def _unknown_field_wording(message: str) -> str:
    if message == "Unknown field.":
        return "Unknown field: this resource has no such property."
    return message
