"""Issuers: card programmes (currency, expiry policy, product restrictions)."""
from __future__ import annotations

from typing import Any

from representations import Action, Link

from ..errors import Conflict
from ..auth.principal import current_principal
from ..models import ApiToken, GiftCard, Issuer, Product
from ..query import fields as q
from ..query.zoom import Zoom
from ..schemas import IssuerSchema
from ..services.issuers import DEFAULT_CURRENCY, check_currency_change
from .endpoint import Endpoint
from .issuing import issuer_action_links, issuer_actions
from .present import iso

ATTRIBUTES = ("name", "expires_after", "product_code_restrictions")


class IssuerEndpoint(Endpoint):
    """``/issuers``: the programmes whose cards Flexigift accepts."""

    name, kind, title = "issuers", "issuer", "Issuers"
    model = Issuer
    schema = IssuerSchema()
    # Derived from the schema's fields on the model's columns; declared: the rules, which
    # filter but do not order.
    filterable = q.derived_filters(
        schema, Issuer,
        expires_after=q.Text(Issuer.expires_after, orderable=False),
        product_code_restrictions=q.Text(Issuer.product_code_restrictions, orderable=False),
    )
    zoomable = {
        "gift_cards": Zoom("gift_cards", "gift_cards", GiftCard.issuer, many=True),
        "products": Zoom("products", "products", Product.issuer, many=True),
    }

    def item_title(self, issuer: Issuer) -> str:
        return issuer.name

    def properties(self, issuer: Issuer) -> dict[str, Any]:
        return {
            "name": issuer.name,
            "currency_code": issuer.currency_code,
            "expires_after": issuer.expires_after,
            "product_code_restrictions": issuer.product_code_restrictions,
            "id": issuer.id,
            "date_created": iso(issuer.date_created),
            "date_modified": iso(issuer.date_modified),
        }

    def links(self, issuer: Issuer, urls) -> dict[str, Link]:
        return {
            "fg:gift_cards": Link(urls.sub("issuers", issuer.id, "gift_cards"), f"Gift cards of {issuer.name}"),
            "fg:products": Link(urls.sub("issuers", issuer.id, "products"), f"Products of {issuer.name}"),
            **issuer_action_links(issuer.id, urls),
        }

    def actions(self, issuer: Issuer, urls, properties: dict[str, Any]) -> list[Action]:
        """Update and delete, generate codes, and issue cards from a list."""
        return super().actions(issuer, urls, properties) + issuer_actions(issuer.id, urls)

    def create(self, data: dict[str, Any]) -> Issuer:
        current_principal().check_issuer(data["name"], "name")
        self.check_unique(None, Issuer.name, data["name"], "name")
        return Issuer.create(currency_code=data.get("currency_code") or DEFAULT_CURRENCY,
                             **{key: data.get(key) for key in ATTRIBUTES})

    def change(self, issuer: Issuer, data: dict[str, Any], *, replace: bool) -> Issuer:
        if replace:
            data = self.cleared(data)
        if "name" in data and data["name"] != issuer.name:
            self.check_unique(issuer, Issuer.name, data["name"], "name")
            # Issuer tokens name their issuer: they follow it to its new name.
            ApiToken.update(issuer_name=data["name"]).where(ApiToken.issuer_name == issuer.name).execute()
        for key in ATTRIBUTES:
            if key in data:
                setattr(issuer, key, data[key])
        if "currency_code" in data:
            currency = data["currency_code"] or DEFAULT_CURRENCY
            check_currency_change(issuer, currency)
            issuer.currency_code = currency
        issuer.touch()
        issuer.save()
        return issuer

    def delete(self, issuer: Issuer) -> None:
        cards = GiftCard.select().where(GiftCard.issuer == issuer.id).count()
        products = Product.select().where(Product.issuer == issuer.id).count()
        if cards or products:
            raise Conflict(f"Issuer {issuer.name!r} has {cards} gift card(s) and {products} "
                           "product(s); delete or move them first.", logref="in_use")
        issuer.delete_instance()
