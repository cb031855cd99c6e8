"""The application factory: configuration, database, the guard, routes and error handling."""
from __future__ import annotations

import logging
import random
import time

import peewee

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .auth import guard as auth_guard
from .auth import ratelimit, secrets
from .config import Config
from .db import contention, keep_connection, open_database, release_connection, unavailable
from .errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, ServiceUnavailable
from .http.conditional import KEYS
from .http.context import current_g, current_request
from .http.limits import ChunkedBodyLimit, refuse_oversized
from .http.method_override import MethodOverride
from .http.routing import Rule, plain_routing, url_adapter
from .http.respond import (Response, error_response, negotiated_renderer, see_other_after_form,
                           without_blank_fields)
from .http.urls import Urls, request_root
from .migrations import migrate
from .models import GiftCard, Product
from .registry import install
from .resources.gift_cards import GiftCardEndpoint
from .resources.history import ChangeEndpoint, register_history
from .resources.events import register_events
from .resources.holds import register_holds
from .resources.home import register_home
from .resources.issuers import IssuerEndpoint
from .resources.orders import register_orders
from .resources.issuing import register_issuing
from .resources.descriptions import register_descriptions
from .resources.forms import retry_action
from .resources.lookup import register_lookup
from .resources.money import register_money
from .resources.options import options_response
from .resources.payment_options import register_payment_options
from .resources.products import ProductEndpoint
from .resources.rels import define_resource_relations, register_rels
from .resources.session import register_session
from .resources.transactions import register_transactions
from .resources.users import UserEndpoint
from .resources.views import register, register_subcollection
from .resources.webhooks import register_webhooks

log = logging.getLogger(__name__)


#: How many times a view runs when the database gives up its transaction for another's.
ATTEMPTS = 4
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Application(Flask):
    """Flask, minus the check of every hook for a coroutine on every request (none is),
    binding its URL map with the host's part done once per host and compiling each rule's
    URL builders once per process (:mod:`.http.routing`), running a view again when the
    database could not let its transaction through."""

    response_class = Response
    url_rule_class = Rule

    def ensure_sync(self, func):
        return func

    def create_url_adapter(self, request):
        if request is None or not plain_routing(self):
            return super().create_url_adapter(request)
        return url_adapter(self, request, super().create_url_adapter)

    def dispatch_request(self):
        """Run the view; again, from the start, after a deadlock or serialization failure
        (its transaction was rolled back whole), and a read again on a fresh connection
        when the one kept from an earlier request turns out to be lost."""
        db = self.extensions["flexigift_db"]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return super().dispatch_request()
            except peewee.PeeweeException as error:
                if attempt == ATTEMPTS or db.in_transaction():
                    raise
                if contention(error):
                    time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
                elif unavailable(error, db) and request.method in SAFE_METHODS and attempt == 1:
                    release_connection(db, failed=True)
                    keep_connection(db)  # may fail in turn: then the database is down
                else:
                    raise
        raise AssertionError("unreachable")


def create_app(config: Config | None = None) -> Flask:
    """A Flexigift WSGI application for ``config`` (default: from the environment)."""
    config = config or Config.from_env()
    app = Application(__name__)
    app.config["FLEXIGIFT"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.strict_slashes = False
    db = open_database(config.database_url, config.pool_size, config.lock_wait_seconds)
    migrate(db)
    app.extensions["flexigift_db"] = db
    app.extensions[KEYS] = secrets.load(db, config.secret_key)
    guard = auth_guard.install(app, config, app.extensions[KEYS])

    @app.teardown_request
    def _release(exc):
        guard.teardown(exc)
        release_connection(db, failed=exc is not None or current_g().get("database_failed", False))

    @app.before_request
    def _check_then_guard():
        req, ctx = current_request(), current_g()
        refuse_oversized(req.environ, config.max_body_bytes)  # 414, 431, 413: before any work
        keep_connection(db)
        guard.check_host(req, ctx)  # before anything reads the Host
        _refuse_an_undecodable_query_string(req)
        cleaned = without_blank_fields(req)
        if cleaned is not None:
            return cleaned
        renderer = negotiated_renderer()  # a 406 before any work, never after a write
        answer = guard.before(req, ctx, renderer)
        if answer is not None:
            return answer
        if req.method == "OPTIONS":
            if req.routing_exception is not None:
                raise req.routing_exception  # no OPTIONS for a URL that does not exist
            principal = ctx.principal
            return options_response(app, lambda method: principal.may(request.endpoint, method))
        return None

    @app.after_request
    def _post_redirect_get(response):
        return see_other_after_form(response)

    _register_routes(app)
    _register_error_handlers(app)
    app.wsgi_app = ChunkedBodyLimit(MethodOverride(app.wsgi_app, config.max_body_bytes), config.max_body_bytes)
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies)
    return app


def _refuse_an_undecodable_query_string(req) -> None:
    try:
        req.query_string.decode()
    except UnicodeDecodeError:
        raise BadRequest("The query string is not UTF-8: percent-encode its characters "
                         "(É is %C3%89).", "query", logref="bad_query_string") from None


def _register_routes(app: Flask) -> None:
    registry = install(app)
    register_home(app)
    register_rels(app)
    register_session(app)
    users, cards, products, issuers = endpoints = (
        UserEndpoint(), GiftCardEndpoint(), ProductEndpoint(), IssuerEndpoint())
    for endpoint in endpoints:
        register(app, endpoint)
        define_resource_relations(registry, endpoint)
    register_subcollection(app, users, cards, GiftCard.user)
    register_subcollection(app, issuers, cards, GiftCard.issuer)
    register_subcollection(app, issuers, products, Product.issuer)
    register_transactions(app)
    register_history(app, ChangeEndpoint(), parents={users: "user", cards: "gift_card",
                                                     products: "product", issuers: "issuer"})
    register_money(app)
    register_holds(app)
    register_orders(app)
    register_issuing(app)
    register_payment_options(app)
    register_lookup(app)
    register_events(app, (*endpoints, *map(registry.endpoint, ("transactions", "holds", "orders"))))
    register_webhooks(app)
    register_descriptions(app)


def _register_error_handlers(app: Flask) -> None:
    config: Config = app.config["FLEXIGIFT"]

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        if error.failed_lookup and g.get("principal") is not None and g.principal.means != "none":
            _count_failed_lookup(config)
        if error.status == 401 and config.auth:
            error.links.setdefault("fg:sign_in", _sign_in_link())
        curie = Urls(request_root()).curie() if g.get("host_checked") else None
        retry = retry_action(error.errors()) if error.status in (400, 409, 422) else None
        return error_response(error, curie, actions=[retry] if retry is not None else None)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _api_error(_translate(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, peewee.PeeweeException):
            g.database_failed = True  # its connection may be unusable: the next request gets a new one
            if unavailable(error, app.extensions["flexigift_db"]) or contention(error):
                log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
                return _api_error(ServiceUnavailable(
                    "The database is not answering, or is too busy to; retry in a few seconds "
                    "(a write with an Idempotency-Key can be retried safely).",
                    headers={"Retry-After": "2"}))
        log.exception("unhandled error on %s %s", request.method, request.path)
        failure = ApiError("The server failed to handle this request; it has been logged.",
                           logref="internal_error")
        failure.status = 500
        return _api_error(failure)


def _sign_in_link():
    from representations import Link
    root = request_root().rstrip("/") if g.get("host_checked") else ""
    return Link(f"{root}/sign-in", "Sign in with a token (HTML browser)")


def _count_failed_lookup(config: Config) -> None:
    """A failed look-up of a card by its code counts against the address and the token."""
    subjects = [f"address:{request.remote_addr}"]
    if g.principal.token_id is not None:
        subjects.append(f"token:{g.principal.token_id}")
    ratelimit.record_failure("lookup", subjects, config.lookup_failures)


def _translate(error: HTTPException) -> ApiError:
    """Werkzeug's own HTTP errors, in our shape."""
    if error.code == 404:
        home = f" at {request_root()}" if g.get("host_checked") else ""
        return NotFound(f"Nothing here: {request.path}. Start from the API home{home}.")
    if error.code == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or [])
        return MethodNotAllowed(
            f"{request.method} is not allowed here; allowed: {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )
    if error.code == 413:
        limit = request.max_content_length or 0
        return PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    if error.code == 400:
        return BadRequest(error.description or "Bad request.")
    generic = ApiError(error.description or error.name, logref=error.name.lower().replace(" ", "_"))
    generic.status = error.code or 500
    return generic

