"""The principal: who a request acts for, with its role and scope.

Made once per request by :mod:`.guard`, from a bearer token, a sign-in cookie
or (authentication off) the development server's anonymous admin.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_request_context

from ..errors import Forbidden
from ..services.actors import Actor
from .roles import ADMIN, CHECKOUT, ISSUER, VISITOR_ROLE, Role, allowed
from .scopes import CheckoutScope, IssuerScope, Scope
from .tokens import Holder

UNSCOPED = Scope()


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    name: str
    role: Role
    token_id: int | None = None
    issuer_id: int | None = None
    #: "token" (Authorization header), "cookie" (signed in from the HTML browser),
    #: "none" (authentication off, or a public page).
    means: str = "none"
    scope: Scope = field(default=UNSCOPED, compare=False)

    @classmethod
    def from_holder(cls, holder: Holder, means: str) -> "Principal":
        role = holder.role
        if role.kind == ISSUER:
            scope: Scope = IssuerScope(holder.issuer_id)
        elif role.kind == CHECKOUT:
            scope = CheckoutScope(holder.id)
        else:
            scope = UNSCOPED
        return cls(holder.name, role, holder.id, holder.issuer_id, means, scope)

    @property
    def unrestricted(self) -> bool:
        """An admin: nothing to screen."""
        return self.role.kind == ADMIN

    @property
    def sees_codes(self) -> bool:
        return self.role.sees_codes

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"

    def may(self, route: str | None, method: str) -> bool:
        """Whether this principal's role may use ``method`` on ``route``."""
        return self.unrestricted or allowed(self.role.kind, route, method)

    def actor(self) -> Actor:
        return Actor(self.name, str(self.role), self.token_id)

    def check_issuer(self, name: str | None, field: str) -> None:
        """403 when an issuer token names another issuer (in a card, product or programme)."""
        if self.role.kind == ISSUER and name is not None and name != self.role.issuer_name:
            raise Forbidden(f"An issuer token for {self.role.issuer_name!r} acts on that issuer's "
                            f"programme only, not on {name!r}.", field, logref="other_issuer")


#: Authentication off: the development server's user may do everything.
ANONYMOUS_ADMIN = Principal("anonymous", Role(ADMIN), means="none")
#: Authentication on, no credentials, on a public page (signing in): may use public routes only.
VISITOR = Principal("visitor", Role(VISITOR_ROLE), means="none")


#: Outside any request (a command, demo data): the operator at the command line.
OPERATOR = Principal("command line", Role(ADMIN), means="none")


def current_principal() -> Principal:
    """This request's principal (set by the guard before any view runs); outside a
    request, the operator of the command line."""
    if not has_request_context():
        return OPERATOR
    return g.principal
