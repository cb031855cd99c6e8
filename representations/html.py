"""Browsable HTML: a plain page per resource for people exploring the API.

Everything is built as an lxml tree, so all data is escaped by the
serialiser; characters XML 1.0 forbids become U+FFFD (as in HAL+XML). The
page works without JavaScript. Its rules:

- ``<title>`` and ``<h1>`` are the resource's title, else its kind.
- Properties form a ``<dl>``: ``None`` shows as ``<em class="null">null</em>``,
  a list as a ``<ul>``, a mapping as a nested ``<dl>``.
- Links form a ``<ul class="links">``: each entry names its relation (linked
  to the relation's documentation when it is curied) and holds an
  ``<a href rel title>`` whose ``rel`` is the full relation URI. A templated
  link is a URI template a browser cannot follow, so it shows as ``<code>``.
- A collection page shows its items as a table, one row per item, whose first
  cell links to the item (``rel="item"``), then one column per property.
  Other embedded resources get a section per relation.
- Each action is a ``<form>`` with a label and a control per field
  (``<select>`` when the field has options). Forms only do GET and POST: any
  other method is sent as POST with a hidden ``_method`` input holding the
  real one, for the application to honour. A boolean (``checkbox``) field is a
  ``<select>`` of ``true`` and ``false``: an unticked checkbox sends nothing,
  so it could never set false, and a hidden ``false`` beside it would send
  the name twice. A number input takes any decimal (``step="any"``), since
  amounts have cents.
- An error document (kind ``errors``) lists its errors: field, message, logref.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import lxml.html
from lxml.html import HtmlElement
from lxml.html import builder as E

from .encoding import text, xml_safe
from .model import Action, Field, Link, PageContext, Resource, embedded_of, links_of
from .renderer import Renderer

FORM_URLENCODED = "application/x-www-form-urlencoded"
METHOD_OVERRIDE = "_method"
BOOLEAN_OPTIONS = ("true", "false")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; }
dt { font-weight: bold; } dd { margin: 0 0 .5em 1.5em; }
.null, .rel { color: #777; } table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; }
form { margin: 1em 0; } label { display: inline-block; min-width: 12em; }
.errors li { color: #a00; }
"""


def safe(value: Any) -> str:
    """The text of ``value``, fit for the tree."""
    return xml_safe(text(value))


def _attrs(**attributes: Any) -> dict[str, str]:
    """Attributes for a builder call, ``None`` left out, the rest made safe."""
    return {
        name.rstrip("_"): safe(value)
        for name, value in attributes.items()
        if value is not None
    }


def heading(level: int, title: Any) -> HtmlElement:
    """An ``<h1>`` … ``<h6>``: HTML has no deeper heading, so deeper levels share h6."""
    tag = getattr(E, f"H{min(max(level, 1), 6)}")
    return tag(safe(title))


def value_node(value: Any) -> HtmlElement | str:
    """How one property value shows: text, or an element for null, lists, mappings."""
    if value is None:
        return E.EM(_attrs(class_="null"), "null")
    if isinstance(value, dict):
        return property_list(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return E.UL(*[E.LI(value_node(item)) for item in value])
    return safe(value)


def property_list(properties: dict[Any, Any]) -> HtmlElement:
    """A ``<dl>`` of names and values."""
    dl = E.DL(_attrs(class_="properties"))
    for name, value in properties.items():
        dl.append(E.DT(safe(name)))
        dl.append(E.DD(value_node(value)))
    return dl


def link_item(rel: str, expanded: str, link: Link) -> HtmlElement:
    """One ``<li>`` of the links list."""
    if expanded != rel:
        relation = E.A(_attrs(href=expanded, class_="rel"), safe(rel))
    else:
        relation = E.SPAN(_attrs(class_="rel"), safe(rel))
    label = link.title if link.title is not None else link.href
    if link.templated:
        target = E.SPAN(safe(label), " ", E.CODE(_attrs(class_="template"), safe(link.href)))
    else:
        target = E.A(_attrs(href=link.href, rel=expanded, title=link.title), safe(label))
    return E.LI(relation, ": ", target)


def link_list(resource: Resource, root: Resource) -> HtmlElement:
    """A ``<ul>`` with every link of ``resource``."""
    return E.UL(
        _attrs(class_="links"),
        *[
            link_item(rel, root.expand_rel(rel), link)
            for rel, links in resource.links.items()
            for link in links_of(links)
        ],
    )


def self_anchor(item: Resource) -> HtmlElement | str:
    """A link to an item of a collection, for the first cell of its row."""
    href = item.self_href
    if href is None:
        return ""
    link = item.links["self"]
    label = link.title if isinstance(link, Link) and link.title is not None else href
    return E.A(_attrs(href=href, rel="item"), safe(label))


def items_table(items: list[Resource]) -> HtmlElement:
    """A table of a collection's items: a link to each, then its properties."""
    columns: dict[str, None] = {}
    for item in items:
        columns.update(dict.fromkeys(item.properties))
    table = E.TABLE(
        _attrs(class_="items"),
        E.THEAD(E.TR(E.TH("item"), *[E.TH(safe(column)) for column in columns])),
    )
    body = E.TBODY()
    for item in items:
        cells = [
            E.TD(value_node(item.properties[column])) if column in item.properties else E.TD()
            for column in columns
        ]
        body.append(E.TR(E.TD(self_anchor(item)), *cells))
    table.append(body)
    return table


def error_list(errors: list[Resource]) -> HtmlElement:
    """The entries of an error document as a readable list."""
    return E.UL(_attrs(class_="errors"), *[error_item(error.properties) for error in errors])


def error_item(entry: dict[str, Any]) -> HtmlElement:
    """One error: the field at fault (if any), the message, the logref (if any)."""
    parts: list[HtmlElement | str] = []
    if entry.get("field") is not None:
        parts += [E.CODE(_attrs(class_="field"), safe(entry["field"])), ": "]
    parts.append(E.SPAN(_attrs(class_="message"), safe(entry.get("message"))))
    if entry.get("logref") is not None:
        parts += [" ", E.SMALL(_attrs(class_="logref"), "(" + safe(entry["logref"]) + ")")]
    return E.LI(*parts)


def _input(field: Field, id_: str) -> HtmlElement:
    """An ``<input>`` for ``field``."""
    control = E.INPUT(
        _attrs(
            type=field.type, name=field.name, id=id_, value=field.value,
            maxlength=field.max_length,
            # A number input accepts only whole numbers unless told otherwise,
            # and money has cents.
            step="any" if field.type == "number" else None,
        )
    )
    if field.required:
        control.set("required", "required")
    return control


def _select(field: Field, id_: str) -> HtmlElement:
    """A ``<select>`` of the field's options; an empty choice unless required."""
    select = E.SELECT(_attrs(name=field.name, id=id_))
    if field.required:
        select.set("required", "required")
    else:
        select.append(E.OPTION(_attrs(value=""), ""))
    current = None if field.value is None else text(field.value)
    for option in field.options:
        element = E.OPTION(_attrs(value=option), safe(option))
        if text(option) == current:
            element.set("selected", "selected")
        select.append(element)
    return select


def control(field: Field, id_: str) -> HtmlElement:
    """A paragraph with the label and control (and description) of ``field``."""
    if field.type == "hidden":
        return E.DIV(_input(field, id_))
    if field.type == "checkbox" and not field.options:
        field = replace(field, options=BOOLEAN_OPTIONS)
    widget = _select(field, id_) if field.options else _input(field, id_)
    label = E.LABEL(_attrs(for_=id_), safe(field.title or field.name))
    notes = [" ", E.SMALL(safe(field.description))] if field.description else []
    return E.P(label, " ", widget, *notes)


def form(action: Action, number: int, context: PageContext | None = None) -> HtmlElement:
    """The ``<form>`` of one action; ``number`` keeps its control ids unique; a POST form
    carries the page's CSRF token."""
    method = action.method.upper()
    attributes = _attrs(
        class_="action",
        id=action.name,
        name=action.name,
        action=action.href,
        method="get" if method == "GET" else "post",
        enctype=action.type if action.type == FORM_URLENCODED else None,
    )
    fieldset = E.FIELDSET(E.LEGEND(safe(action.title or action.name)))
    if method != "GET" and context is not None and context.csrf_token:
        fieldset.append(E.INPUT(_attrs(type="hidden", name=context.csrf_field, value=context.csrf_token)))
    if method not in ("GET", "POST"):
        fieldset.append(E.INPUT(_attrs(type="hidden", name=METHOD_OVERRIDE, value=method)))
    for position, field in enumerate(action.fields):
        fieldset.append(control(field, f"action{number}-field{position}"))
    fieldset.append(E.P(E.BUTTON(_attrs(type="submit"), safe(action.title or action.name))))
    return E.FORM(attributes, fieldset)


def header(context: PageContext) -> HtmlElement:
    """The page's header: the API's home, who is signed in, and signing out or in."""
    parts: list[Any] = []
    if context.home:
        parts.append(E.A(_attrs(href=context.home, rel="home", class_="home"), "Flexigift API"))
    if context.principal:
        parts += [" ", E.SPAN(_attrs(class_="principal"), safe(context.principal))]
    if context.sign_out:
        hidden = [E.INPUT(_attrs(type="hidden", name=context.csrf_field, value=context.csrf_token))] \
            if context.csrf_token else []
        parts += [" ", E.FORM(_attrs(class_="sign-out", id="sign-out", action=context.sign_out, method="post"),
                              *hidden, E.BUTTON(_attrs(type="submit"), "Sign out"))]
    if context.sign_in:
        parts += [" ", E.A(_attrs(href=context.sign_in, class_="sign-in"), "Sign in")]
    return E.HEADER(_attrs(class_="top"), *parts)


class HtmlRenderer(Renderer):
    """Renders a resource as a browsable HTML page."""

    media_type = "text/html"
    shows_actions = True
    aliases = ("application/xhtml+xml",)
    charset = "utf-8"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return lxml.html.tostring(
            self.page(resource, context),
            doctype="<!DOCTYPE html>",
            encoding="utf-8",
            method="html",
            pretty_print=True,
        )

    def page(self, resource: Resource, context: PageContext | None = None) -> HtmlElement:
        """The ``<html>`` element of the page for ``resource``."""
        title = resource.title or resource.kind
        if context is not None and context.stylesheet:
            style = E.LINK(_attrs(rel="stylesheet", href=context.stylesheet))
        else:
            style = E.STYLE(STYLE)
        head = E.HEAD(E.META(charset="utf-8"), E.TITLE(safe(title)), style)
        top = [header(context)] if context is not None else []
        body = E.BODY(*top, heading(1, title), *self.sections(resource, resource, level=2, context=context))
        return E.HTML({"lang": "en"}, head, body)

    def sections(self, resource: Resource, root: Resource, level: int,
                 context: PageContext | None = None) -> list[HtmlElement]:
        """The parts of a resource's page; ``level`` is the heading level to use."""
        properties = property_list(resource.properties)
        parts = [self.section("properties", "Properties", level, properties)]
        if resource.links:
            parts.append(self.section("links", "Links", level, link_list(resource, root)))
        for rel, embedded in resource.embedded.items():
            parts.append(self.embedded_section(resource, root, rel, embedded, level, context))
        if resource.actions:
            forms = [form(action, number, context) for number, action in enumerate(resource.actions)]
            parts.append(self.section("actions", "Actions", level, *forms))
        return parts

    def embedded_section(
        self,
        resource: Resource,
        root: Resource,
        rel: str,
        embedded: Resource | list[Resource],
        level: int,
        context: PageContext | None = None,
    ) -> HtmlElement:
        """The section of what ``resource`` embeds under ``rel``."""
        items = embedded_of(embedded)
        if resource.kind == "errors":
            return self.section("errors", "Errors", level, error_list(items))
        if rel == resource.items_rel:
            return self.section("items", "Items", level, items_table(items))
        articles = [self.article(item, root, level + 1, context) for item in items]
        return self.section("embedded", rel, level, *articles)

    def article(self, resource: Resource, root: Resource, level: int,
                context: PageContext | None = None) -> HtmlElement:
        """An embedded resource shown inside its parent's page."""
        return E.ARTICLE(
            heading(level, resource.title or resource.kind),
            *self.sections(resource, root, level + 1, context),
        )

    @staticmethod
    def section(name: str, title: str, level: int, *content: HtmlElement) -> HtmlElement:
        """A ``<section class=name>`` under a heading of the given level."""
        return E.SECTION(_attrs(class_=name), heading(level, title), *content)
