"""The application factory: configuration, database, routes and error handling."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from .config import Config
from .db import open_database
from .errors import ApiError, MethodNotAllowed, NotFound, PayloadTooLarge, BadRequest
from .http.method_override import MethodOverride
from .http.respond import error_response, negotiated_renderer
from .http.urls import Urls, request_root
from .migrations import migrate
from .models import GiftCard, Product
from .registry import install
from .resources.gift_cards import GiftCardEndpoint
from .resources.home import register_home
from .resources.issuers import IssuerEndpoint
from .resources.issuing import register_issuing
from .resources.money import register_money
from .resources.options import options_response
from .resources.payment_options import register_payment_options
from .resources.products import ProductEndpoint
from .resources.rels import define_resource_relations, register_rels
from .resources.transactions import register_transactions
from .resources.users import UserEndpoint
from .resources.views import register, register_subcollection

log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """A Flexigift WSGI application for ``config`` (default: from the environment)."""
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["FLEXIGIFT"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.strict_slashes = False
    db = open_database(config.database_url, config.pool_size)
    migrate(db)
    app.extensions["flexigift_db"] = db

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        if not db.is_closed():
            db.close()

    @app.before_request
    def _negotiate_and_answer_options():
        negotiated_renderer()  # a 406 before any work, never after a write
        if request.method == "OPTIONS":
            if request.routing_exception is not None:
                raise request.routing_exception  # no OPTIONS for a URL that does not exist
            return options_response(app)
        return None

    @app.before_request
    def _refuse_an_undecodable_query_string():
        try:
            request.query_string.decode()
        except UnicodeDecodeError:
            raise BadRequest("The query string is not UTF-8: percent-encode its characters "
                             "(É is %C3%89).", "query", logref="bad_query_string") from None

    registry = install(app)
    register_home(app)
    register_rels(app)
    endpoints = (UserEndpoint(), GiftCardEndpoint(), ProductEndpoint(), IssuerEndpoint())
    for endpoint in endpoints:
        register(app, endpoint)
        define_resource_relations(registry, endpoint)
    _register_subcollections(app, *endpoints)
    register_transactions(app)
    register_money(app)
    register_issuing(app)
    register_payment_options(app)
    _register_error_handlers(app)
    app.wsgi_app = MethodOverride(app.wsgi_app, config.max_body_bytes)
    return app


def _register_subcollections(app: Flask, users, cards, products, issuers) -> None:
    register_subcollection(app, users, cards, GiftCard.user)
    register_subcollection(app, issuers, cards, GiftCard.issuer)
    register_subcollection(app, issuers, products, Product.issuer)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error, Urls(request_root()).curie())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _api_error(_translate(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        failure = ApiError("The server failed to handle this request; it has been logged.",
                           logref="internal_error")
        failure.status = 500
        return _api_error(failure)


def _translate(error: HTTPException) -> ApiError:
    """Werkzeug's own HTTP errors, in our shape."""
    if error.code == 404:
        return NotFound(f"Nothing here: {request.path}. Start from the API home at {request.url_root}.")
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
