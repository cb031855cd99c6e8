"""The guard every request passes before a view runs, and the headers every
response leaves with.

In order: the ``Host`` is one we answer to (400); a CORS preflight from an
allowed origin is answered; a write from a foreign ``Origin`` is refused (403);
the principal is established from a bearer token, the HTML browser's sign-in
cookie, or (authentication off) as the development server's anonymous admin
(401 otherwise); a form post from a browser carries a valid CSRF token (403);
the principal's role may use this route and method (403); the row the URL
names is one the principal's scope shows (404). Then the request's actor and
code visibility are set for the services, and its screen for the presenter.
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from flask import Flask, Request, Response, g, request

from representations import PageContext, Renderer

from ..config import Config
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..http import cors
from ..http.context import current_g, current_request
from ..http.headers import protect
from ..http.hosts import host_allowed
from ..http.urls import request_root
from ..services import actors
from . import csrf, ratelimit
from .principal import ANONYMOUS_ADMIN, VISITOR, Principal
from .roles import PUBLIC
from .scopes import ROUTE_KINDS
from .screen import DocumentScreen, matcher_of
from .tokens import holder_of, token_hash

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The cookie the HTML browser's sign-in keeps the token in.
SESSION_COOKIE = "fg_session"
REALM = 'Bearer realm="Flexigift"'


class Guard:
    """Authentication, authorisation and cross-site protection for one application."""

    def __init__(self, app: Flask, config: Config, keys: dict[str, bytes]):
        self.app = app
        self.config = config
        self.keys = keys
        #: (Host header, server name and port, scheme) → (the host, whether we answer to it)
        self._hosts: dict[tuple, tuple[str, bool]] = {}

    # -- before -------------------------------------------------------------
    def check_host(self, req: Request, ctx) -> None:
        """400 for a Host we do not answer to (before anything reads it)."""
        ctx.host_checked = False
        environ = req.environ
        key = (environ.get("HTTP_HOST"), environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
               environ.get("wsgi.url_scheme"))
        known = self._hosts.get(key)
        if known is None:
            host = req.host
            known = (host, host_allowed(host, self.config.host_names))
            if len(self._hosts) >= 256:
                self._hosts.clear()  # a few Host values recur; never grow with what clients send
            self._hosts[key] = known
        host, allowed = known
        if not allowed:
            raise BadRequest(
                f"This server does not answer to the host name in the Host header "
                f"({host[:100]!r}); allowed: {', '.join(self.config.host_names)} "
                "(FLEXIGIFT_ALLOWED_HOSTS).", "Host", logref="bad_host")
        ctx.host_checked = True

    def preflight(self, req: Request) -> Response | None:
        """The answer to a CORS preflight (no credentials come with one)."""
        if not cors.is_preflight(req.method, req.headers):
            return None
        origin = req.headers["Origin"]
        if not cors.origin_allowed(origin, self.config.cors_origins):
            raise Forbidden(f"Cross-origin requests from {origin[:100]!r} are not allowed "
                            "(FLEXIGIFT_CORS_ORIGINS).", "Origin", logref="origin_not_allowed")
        return cors.preflight(origin)

    def check_origin(self, req: Request) -> None:
        """403 for a write sent by a page of another site (cross-site form posts and the like)."""
        if req.method in SAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        if origin is None:
            if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
                raise Forbidden("A page of another site cannot act on this API.", logref="cross_site")
            return
        if origin.lower() in self._own_origins() or cors.origin_allowed(origin, self.config.cors_origins):
            return
        raise Forbidden(f"A page of another site ({origin[:100]}) cannot act on this API; "
                        "allow its origin in FLEXIGIFT_CORS_ORIGINS if it should.", "Origin",
                        logref="cross_site")

    def _own_origins(self) -> set[str]:
        origins = {request.host_url.rstrip("/").lower()}
        if self.config.public_url:
            parts = urlsplit(self.config.public_url)
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
        return origins

    def authenticate(self, req: Request) -> Principal:
        if not self.config.auth:
            return ANONYMOUS_ADMIN
        header = req.headers.get("Authorization")
        if req.endpoint in PUBLIC:
            return VISITOR  # signing in, the stylesheet: no credentials are read
        if header is not None:
            scheme, _, secret = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthorized("The Authorization header must be 'Bearer <token>'.",
                                   "Authorization", logref="unauthorized",
                                   headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'})
            return self._token(secret.strip(), "token")
        cookie = req.cookies.get(SESSION_COOKIE)
        if cookie:
            if req.method not in SAFE_METHODS and not self.csrf_valid():
                raise Forbidden("This form was not sent from a page of this API (its CSRF token is "
                                "missing or stale); reload the page and send it again.",
                                csrf.FIELD, logref="csrf")
            return self._token(cookie, "cookie")
        raise Unauthorized("This API needs a token: send 'Authorization: Bearer <token>' "
                           "(flexigift token create makes one).", "Authorization",
                           headers={"WWW-Authenticate": REALM}, logref="unauthorized")

    def _token(self, secret: str, means: str) -> Principal:
        holder = holder_of(secret)
        if holder is not None:
            return Principal.from_holder(holder, means)
        subjects = [f"address:{request.remote_addr}", f"token:{token_hash(secret)}"]
        limit = self.config.auth_failures
        ratelimit.check("auth", subjects, limit, "authentications")
        ratelimit.record_failure("auth", subjects, limit)
        raise Unauthorized("This token is not valid: unknown, or revoked.", "Authorization",
                           headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
                           logref="invalid_token")

    def csrf_nonce(self) -> str:
        """This browser's CSRF nonce (a new one, set as a cookie on the way out, if it has none)."""
        nonce = g.get("csrf_nonce")
        if nonce is None:
            nonce = request.cookies.get(csrf.COOKIE)
            if not nonce or len(nonce) > 64:
                nonce = g.new_csrf_nonce = csrf.new_nonce()
            g.csrf_nonce = nonce
        return nonce

    def csrf_valid(self) -> bool:
        """Whether this form post carries the CSRF token of its own cookie."""
        if not request.mimetype.endswith("x-www-form-urlencoded"):
            return False
        raw = request.get_data(cache=True)
        try:
            token = parse_qs(raw.decode("latin-1"), keep_blank_values=True).get(csrf.FIELD, [None])[0]
        except ValueError:
            return False
        return csrf.valid(request.cookies.get(csrf.COOKIE), token, self.keys["csrf"])

    def check_csrf(self, req: Request, principal: Principal) -> None:
        """403 for a browser's form post (or ``_method`` override) without a valid CSRF token."""
        if req.method in SAFE_METHODS or principal.means == "cookie":
            return  # a cookie's CSRF token was checked when it was read
        from_form = request.environ.get("flexigift.method_override") == "form"
        origin = request.headers.get("Origin")
        trusted = cors.origin_allowed(origin, self.config.cors_origins)  # a page set up as a client
        from_browser = principal.means == "none" and not trusted and (
            origin is not None or "Sec-Fetch-Site" in request.headers)
        if (from_form or from_browser) and not self.csrf_valid():
            raise Forbidden("This form was not sent from a page of this API (its CSRF token is "
                            "missing or stale); reload the page and send it again.", csrf.FIELD,
                            logref="csrf")

    @staticmethod
    def check_permission(req: Request, principal: Principal) -> None:
        """403 unless the role may use this route and method; 404 for a row it may not see."""
        rule = req.url_rule
        if rule is None or req.routing_exception is not None:
            return  # routing answers 404 or 405 itself
        route = rule.endpoint
        if not principal.may(route, req.method):
            raise Forbidden(f"A {principal.role.kind} token may not {req.method} this resource.",
                            logref="forbidden")
        kind = ROUTE_KINDS.get(route)
        pk = (req.view_args or {}).get("id")
        if kind is not None and pk is not None and principal.scope.restricted:
            if not principal.scope.visible(kind, [pk]):
                raise NotFound(f"There is no {kind.replace('_', ' ')} with id {pk}.")

    def before(self, req: Request, ctx, renderer: Renderer) -> Response | None:
        """Everything after the Host check (which the app runs first of all)."""
        answer = self.preflight(req)
        if answer is not None:
            return answer
        self.check_origin(req)
        page = renderer.media_type == "text/html"  # a page for people needs a page context
        if page:
            ctx.page_context = self.page_context(None)  # for an HTML 401 page
        principal = self.authenticate(req)
        ctx.principal = principal
        self.check_csrf(req, principal)
        self.check_permission(req, principal)
        actors.begin(principal.actor(), principal.sees_codes)
        if not principal.unrestricted:
            ctx.screen = DocumentScreen(principal, matcher_of(self.app), request_root())
        if page:
            ctx.page_context = self.page_context(principal)
        return None

    def page_context(self, principal: Principal | None) -> PageContext:
        """What an HTML page shows beside its resource."""
        root = request_root().rstrip("/")
        signed_in = principal is not None and principal.means != "none"
        if principal is None:
            label = None
        elif signed_in:
            label = principal.label
        else:
            label = None if self.config.auth else "authentication off (development)"
        return PageContext(
            csrf_token=csrf.token_for(self.csrf_nonce(), self.keys["csrf"]),
            csrf_field=csrf.FIELD,
            principal=label,
            sign_out=f"{root}/sign-out" if signed_in and principal.means == "cookie" else None,
            sign_in=f"{root}/sign-in" if self.config.auth and not signed_in else None,
            stylesheet=f"{root}/static/flexigift.css",
            home=f"{root}/",
        )

    # -- after --------------------------------------------------------------
    def after(self, response: Response) -> Response:
        ctx = current_g()
        nonce = ctx.get("new_csrf_nonce")
        if nonce is not None and response.mimetype == "text/html":
            response.set_cookie(csrf.COOKIE, nonce, httponly=True, samesite="Strict",
                                secure=self.secure(), path="/")
        origin = current_request().environ.get("HTTP_ORIGIN")
        if origin and cors.origin_allowed(origin, self.config.cors_origins):
            cors.expose(response, origin)
        principal = ctx.get("principal")
        return protect(response, authenticated=principal is not None and principal.means != "none")

    def secure(self) -> bool:
        """Whether cookies must be Secure: the API is reached over HTTPS."""
        if self.config.public_url:
            return self.config.public_url.startswith("https:")
        return request.scheme == "https"

    @staticmethod
    def teardown(_exc) -> None:
        actors.end()


def install(app: Flask, config: Config, keys: dict[str, bytes]) -> Guard:
    guard = Guard(app, config, keys)
    app.extensions["flexigift_guard"] = guard
    app.after_request(guard.after)
    return guard
