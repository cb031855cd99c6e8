"""The OpenAPI 3.1 document of a Flexigift application, made from what the
application itself knows: its route table, the marshmallow schema each write
accepts (the same ones that validate requests and describe Siren, HAL-FORMS
and HTML forms, OPTIONS bodies and ``/rels``), and what each collection can be
filtered, ordered and zoomed by. Nothing is written down twice, so the
document cannot drift from the server.
"""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

import flexigift

from .registry import registry_of
from .money import to_number
from .schemas import Money

OPENAPI_VERSION = "3.1.0"

#: Every media type a response can come in (``Accept`` or ``?format=``).
RESPONSE_TYPES = ("application/hal+json", "application/hal+xml", "application/vnd.siren+json",
                  "application/json", "text/html", "application/prs.hal-forms+json")
#: The bodies a write accepts.
BODY_TYPES = ("application/json", "application/hal+json")
FORM_TYPE = "application/x-www-form-urlencoded"

#: What each error status means here (every error comes in the negotiated media type).
ERRORS = {
    400: "Malformed request: a query parameter, header or body that cannot be read.",
    401: "No valid API token (Authorization: Bearer <token>).",
    403: "The token's role may not do this, or a foreign site's form.",
    404: "No such resource (or one the token's scope hides).",
    405: "The URL does not take this method (see Allow).",
    406: "None of the media types in Accept is available.",
    409: "Conflicts with the resource's state (a taken card_id, an overdraft, a used card…).",
    412: "If-Match does not name the current state: fetch it again.",
    413: "The body is larger than the server takes.",
    414: "The URL (path and query string) is longer than 8 KiB.",
    415: "A body type the server does not read.",
    422: "The body is well-formed but not acceptable: each field at fault is named.",
    428: "The write needs a precondition header.",
    429: "Too many attempts: wait for Retry-After seconds.",
    431: "A header value is longer than 8 KiB, or the headers together than 32 KiB.",
    503: "The database is unavailable or busy: retry after Retry-After seconds.",
}
#: The errors any request may meet, whatever it does.
ANY_ERRORS = (400, 401, 403, 404, 405, 406, 413, 414, 415, 429, 431, 503)
WRITE_ERRORS = (409, 412, 422, 428)

#: Page parameters every collection takes, besides its filters.
PAGE_PARAMETERS = {
    "limit": ({"type": "integer", "minimum": 0}, "Items per page (default 20; each collection has a maximum)."),
    "offset": ({"type": "integer", "minimum": 0}, "Items to skip (a direct jump)."),
    "after": ({"type": "integer", "minimum": 0}, "Seek: the page after the item with this id."),
    "before": ({"type": "integer", "minimum": 0}, "Seek: the page before the item with this id."),
    "order": ({"type": "string"}, "Sort, e.g. `balance desc,card_id`."),
    "fields": ({"type": "string"}, "Only these properties, comma-separated."),
    "zoom": ({"type": "string"}, "Embed related resources in every item, e.g. `user,issuer` "
                                 "(nested with `:`)."),
}
FORMAT = {"name": "format", "in": "query", "required": False,
          "description": "The media type by a short name, for a link (a browser cannot set Accept).",
          "schema": {"type": "string", "enum": ["hal", "xml", "siren", "json", "html", "hal-forms"]}}
FILTER_HELP = ("Filter, Foxy's syntax: `value`, `prefix*` (text), `a..b` (range); other operators as "
               "`{name}:{{operator}}` (greaterthan, lessthan, greaterthanorequal, lessthanorequal, not, in, "
               "isdefined).")

#: The path segment of a route → the resource collection it lists.
SUBCOLLECTIONS = {"history": "changes"}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _money(converter, field, **kwargs) -> dict[str, Any]:
    """Money: an exact amount, sent as a number or as its decimal text."""
    if not isinstance(field, Money):
        return {}
    described = {"type": ["number", "string", *(["null"] if field.allow_none else [])], "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                 "description": field.metadata.get("description", "An amount of money, e.g. 12.50.")}
    if isinstance(field.load_default, int):
        amount = to_number(field.load_default)
        described["default"] = int(amount) if amount == int(amount) else str(amount)
    return described


class DocumentBuilder:
    """Builds the document of one application."""

    def __init__(self, app: Flask, server_url: str | None = None):
        self.app = app
        self.registry = registry_of(app)
        self.plugin = MarshmallowPlugin(schema_name_resolver=self._schema_name)
        self.spec = APISpec(
            title="Flexigift API", version=flexigift.__version__, openapi_version=OPENAPI_VERSION,
            plugins=[self.plugin],
            info={"description": "Spend third-party gift cards at a marketplace checkout: a hypermedia "
                                 "API (HAL, HAL+XML, Siren, plain JSON, HTML, HAL-FORMS). Start at `GET /` "
                                 "and follow the links."},
            servers=[{"url": server_url or "http://localhost:3000"}],
            security=[{"bearerAuth": []}],
        )
        self.plugin.converter.add_attribute_function(_money)
        self._schemas: dict[int, str] = {}

    @staticmethod
    def _schema_name(schema) -> str:
        cls = schema if isinstance(schema, type) else type(schema)
        return cls.__name__.removesuffix("Schema") or cls.__name__

    # -- components ---------------------------------------------------------------
    def components(self) -> None:
        self.spec.components.security_scheme("bearerAuth", {
            "type": "http", "scheme": "bearer",
            "description": "A token from `flexigift token create --role …` (admin, issuer:<name>, checkout, "
                           "readonly). A development server on a loopback address runs without."})
        error = {"type": "object", "required": ["logref", "message"], "properties": {
            "logref": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}
        self.spec.components.schema("Error", error)
        self.spec.components.schema("Errors", {
            "type": "object", "description": "HAL, HAL-FORMS and Siren carry the entries as embedded "
            "resources (`_embedded.fg:errors`, `entities`); plain JSON as `errors`.",
            "properties": {"total": {"type": "integer"},
                           "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}},
                           "_embedded": {"type": "object"}}})
        for status, description in ERRORS.items():
            headers = {"Retry-After": {"schema": {"type": "integer"}}} if status in (429, 503) else {}
            response = {"description": description, "content": self._error_content()}
            if headers:
                response["headers"] = headers
            if status == 401:
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            self.spec.components.response(f"E{status}", response)

    def _error_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for media_type in RESPONSE_TYPES:
            if media_type in ("text/html", "application/hal+xml"):
                content[media_type] = {"schema": {"type": "string"}}
            else:
                content[media_type] = {"schema": {"$ref": "#/components/schemas/Errors"}}
        return content

    def _schema_ref(self, schema: Schema) -> dict[str, Any]:
        name = self._schema_name(schema)
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, schema=schema)
        return {"$ref": f"#/components/schemas/{name}"}

    # -- operations ---------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        self.components()
        paths: dict[str, dict[str, Any]] = {}
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if rule.rule.endswith("/") and rule.rule != "/":
                continue  # the same route with a trailing slash
            path = _path(rule.rule)
            for method in sorted(rule.methods - {"HEAD"}):
                paths.setdefault(path, {})[method.lower()] = self.operation(rule, method)
        for path, operations in paths.items():
            self.spec.path(path=path, operations=operations)
        return self.spec.to_dict()

    def operation(self, rule, method: str) -> dict[str, Any]:
        endpoint = rule.endpoint
        operation: dict[str, Any] = {
            "operationId": f"{method.lower()}_{endpoint}",
            "tags": [self._tag(rule.rule)],
            "summary": self._summary(rule, method),
            "parameters": [],
            "responses": {},
        }
        if "<int:id>" in rule.rule:
            operation["parameters"].append({"name": "id", "in": "path", "required": True,
                                            "schema": {"type": "integer", "minimum": 1}})
        if "<name>" in rule.rule:
            operation["parameters"].append({"name": "name", "in": "path", "required": True,
                                            "schema": {"type": "string"}})
        if endpoint == "static":
            operation["parameters"].append({"name": "filename", "in": "path", "required": True,
                                            "schema": {"type": "string"}})
        if method in ("GET", "OPTIONS") and endpoint != "static":
            operation["parameters"].append(FORMAT)
        collection = self._collection_of(rule, method)
        if collection is not None:
            operation["parameters"] += self._collection_parameters(collection)
        if endpoint in ("public_openapi", "public_postman", "static"):
            operation["security"] = []
        if endpoint == "sign_in" or endpoint == "sign_out":
            operation["security"] = []
        writes = self.registry.writes.get(endpoint, {})
        schema = writes.get(method)
        if schema is not None:
            operation["requestBody"] = self._body(schema)
            operation["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "A retry with the same key answers as the first try, never twice.",
                "schema": {"type": "string", "maxLength": 255}})
        if method in ("PUT", "PATCH", "DELETE"):
            operation["parameters"].append({
                "name": "If-Match", "in": "header", "required": False,
                "description": "The ETag you read: 412 if the resource changed since.",
                "schema": {"type": "string"}})
        operation["responses"] = self._responses(rule, method, schema is not None)
        if not operation["parameters"]:
            del operation["parameters"]
        return operation

    def _tag(self, rule: str) -> str:
        first = rule.strip("/").split("/")[0]
        return first or "home"

    def _summary(self, rule, method: str) -> str:
        endpoint = rule.endpoint
        relation = self.registry.relations.get(rule.rule.strip("/").split("/")[-1])
        verbs = {"GET": "Read", "POST": "Create or perform", "PUT": "Replace", "PATCH": "Change",
                 "DELETE": "Delete", "OPTIONS": "Methods and write fields of"}
        what = relation.title if relation is not None else endpoint.replace("_", " ")
        return f"{verbs.get(method, method)}: {what}"

    def _collection_of(self, rule, method: str):
        """The endpoint whose items a GET of this route lists, or ``None``."""
        if method != "GET":
            return None
        segments = [segment for segment in rule.rule.strip("/").split("/") if segment]
        if not segments or segments[-1].startswith("<"):
            return None
        name = SUBCOLLECTIONS.get(segments[-1], segments[-1])
        return self.registry.endpoints.get(name)

    def _collection_parameters(self, endpoint) -> list[dict[str, Any]]:
        parameters = [{"name": name, "in": "query", "required": False, "description": description,
                       "schema": schema} for name, (schema, description) in PAGE_PARAMETERS.items()]
        for name in endpoint.filterable:
            parameters.append({"name": name, "in": "query", "required": False,
                               "description": FILTER_HELP.format(name=name), "schema": {"type": "string"}})
        return parameters

    def _body(self, schema: Schema) -> dict[str, Any]:
        reference = self._schema_ref(schema)
        content = {media_type: {"schema": reference} for media_type in BODY_TYPES}
        content[FORM_TYPE] = {"schema": {"type": "object", "additionalProperties": {"type": "string"},
                                         "description": "An HTML form: the same fields as text."}}
        return {"required": True, "content": content}

    def _responses(self, rule, method: str, writes: bool) -> dict[str, Any]:
        endpoint = rule.endpoint
        responses: dict[str, Any] = {}
        representation = {media_type: {"schema": {"type": "string"} if media_type in (
            "text/html", "application/hal+xml") else {}} for media_type in RESPONSE_TYPES}
        headers = {"ETag": {"schema": {"type": "string"}}}
        if method == "OPTIONS":
            responses["200"] = {"description": "Allowed methods (Allow) and the fields of each write.",
                                "headers": {"Allow": {"schema": {"type": "string"}}},
                                "content": representation}
            for status in ANY_ERRORS:
                responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
            return responses
        if endpoint == "static":
            responses["200"] = {"description": "The stylesheet of the HTML pages.",
                                "content": {"text/css": {"schema": {"type": "string"}}}}
            responses["304"] = {"description": "Not modified."}
            responses["404"] = {"$ref": "#/components/responses/E404"}
            return responses
        if endpoint in ("public_openapi", "public_postman"):
            responses["200"] = {"description": "The document.",
                                "content": {"application/json": {"schema": {"type": "object"}}}}
            for status in ANY_ERRORS:
                responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
            return responses
        if method == "GET":
            responses["200"] = {"description": "The representation, in the negotiated media type.",
                                "headers": headers, "content": representation}
            responses["303"] = {"description": "An HTML GET form's query without its blank fields."}
            responses["304"] = {"description": "Not modified (If-None-Match)."}
        elif method == "DELETE":
            responses["204"] = {"description": "Deleted."}
            responses["303"] = {"description": "After an HTML form's delete: its collection."}
        elif method in ("PUT", "PATCH"):
            responses["200"] = {"description": "The new state.", "headers": headers, "content": representation}
            responses["303"] = {"description": "After an HTML form's write: the resource."}
        elif method == "POST":
            created = {"description": "Created (Location: the new resource).",
                       "headers": {**headers, "Location": {"schema": {"type": "string"}}},
                       "content": representation}
            responses["201"] = created
            responses["200"] = {"description": "The answer (a look-up; an idempotent replay).",
                                "headers": headers, "content": representation}
            responses["303"] = {"description": "After an HTML form's post: what it made."}
        errors = list(ANY_ERRORS)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            errors += WRITE_ERRORS
        for status in sorted(set(errors)):
            responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
        return responses


def openapi_document(app: Flask, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``."""
    return DocumentBuilder(app, server_url).document()
