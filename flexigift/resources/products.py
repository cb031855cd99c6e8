"""Products: what an issuer's cards may buy, at an exact price."""
from __future__ import annotations

from typing import Any

from representations import Link

from ..errors import Conflict
from ..models import Issuer, Product, Transaction
from ..query import fields as q
from ..query.zoom import Zoom
from ..money import format_cents
from ..schemas import ProductSchema
from ..auth.principal import current_principal
from ..services.issuers import DEFAULT_CURRENCY, issuer_named
from .endpoint import Endpoint
from .present import iso


class ProductEndpoint(Endpoint):
    """``/products``: the issuers' eligible products."""

    name, kind, title = "products", "product", "Products"
    model = Product
    schema = ProductSchema()
    # Derived from the schema's fields on the model's columns; declared: what lives elsewhere.
    filterable = q.derived_filters(schema, Product, eligible_issuer=q.Text(Issuer.name),
                                   currency_code=q.Text(Issuer.currency_code))
    zoomable = {"issuer": Zoom("issuer", "issuers", Product.issuer, many=False)}

    def item_title(self, product: Product) -> str:
        return product.product_id

    def select(self):
        return Product.select(Product, Issuer.id, Issuer.name, Issuer.currency_code).join(Issuer)

    def properties(self, product: Product) -> dict[str, Any]:
        issuer = product.issuer
        return {
            "product_id": product.product_id,
            "name": product.name,
            "price": format_cents(product.price, product.issuer.currency_code),
            "eligible_issuer": issuer.name,
            "currency_code": issuer.currency_code,
            "id": product.id,
            "date_created": iso(product.date_created),
            "date_modified": iso(product.date_modified),
        }

    def links(self, product: Product, urls) -> dict[str, Link]:
        return {"fg:issuer": Link(urls.item("issuers", product.issuer_id), product.issuer.name)}

    def currency_for(self, body: dict[str, Any], obj: Product | None = None) -> str | None:
        """A price is in the currency of the issuer the product is (or will be) eligible for."""
        named = body.get("eligible_issuer")
        issuer = Issuer.get_or_none(Issuer.name == named) if isinstance(named, str) else None
        if issuer is None and obj is not None:
            issuer = obj.issuer
        return issuer.currency_code if issuer is not None and issuer.currency_code else DEFAULT_CURRENCY

    def create(self, data: dict[str, Any]) -> Product:
        current_principal().check_issuer(data["eligible_issuer"], "eligible_issuer")
        self.check_unique(None, Product.product_id, data["product_id"], "product_id")
        issuer = issuer_named(data["eligible_issuer"])
        return Product.create(product_id=data["product_id"], name=data["name"],
                              price=data["price"], issuer=issuer)

    def change(self, product: Product, data: dict[str, Any], *, replace: bool) -> Product:
        if "product_id" in data and data["product_id"] != product.product_id:
            self.check_unique(product, Product.product_id, data["product_id"], "product_id")
        for key in ("product_id", "name", "price"):
            if key in data:
                setattr(product, key, data[key])
        if "eligible_issuer" in data and data["eligible_issuer"] != product.issuer.name:
            current_principal().check_issuer(data["eligible_issuer"], "eligible_issuer")
            if Transaction.select().where(Transaction.product == product.id).exists():
                raise Conflict(f"Product {product.product_id!r} has been paid for with "
                               f"{product.issuer.name} cards; its eligible_issuer is fixed now.",
                               "eligible_issuer", logref="eligible_issuer_fixed")
            product.issuer = issuer_named(data["eligible_issuer"])
        product.touch()
        product.save()
        return product

    def delete(self, product: Product) -> None:
        if Transaction.select().where(Transaction.product == product.id).exists():
            raise Conflict(f"Product {product.product_id!r} has been paid for with gift cards; "
                           "deleting it would break that history.", logref="has_history")
        product.delete_instance()
