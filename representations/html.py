"""Browsable HTML: a plain page per resource for people exploring the API.

Everything is built as an lxml tree, so all data is escaped by the
serialiser; characters XML 1.0 forbids become U+FFFD (as in HAL+XML). The
page works without JavaScript. Its rules:

- ``<title>`` and ``<h1>`` are the resource's title, else its kind.
- Properties form a ``<dl>``: ``None`` shows as ``<em class="null">null</em>``,
  a list as a ``<ul>`` (a list of mappings as a table, a row each), a
  mapping as a nested ``<dl>``.
- Links form a ``<ul class="links">``: each entry names its relation (linked
  to the relation's documentation when it is curied) and holds an
  ``<a href rel title>`` whose ``rel`` is the full relation URI. A templated
  link is a URI template a browser cannot follow, so it shows as ``<code>``.
- A collection page shows its items as a compact table, one row per item,
  whose first cell links to the item (``rel="item"``), then the first
  :data:`TABLE_COLUMNS` properties (the rest are on the item's page), with a
  pager (first / previous / next / last) above it. Other embedded resources
  get a section per relation.
- The page for people (with a :class:`~.model.PageContext`) has a header with
  the API's name, breadcrumbs from the API's home to the resource, and the
  same URL in every other media type (``?format=hal``, …) one click away.
- Each action is a ``<form>`` with a label and a control per field
  (``<select>`` when the field has options). Forms only do GET and POST: any
  other method is sent as POST with a hidden ``_method`` input holding the
  real one, for the application to honour. A DELETE form asks for a ticked
  confirmation box before it can be sent (no script needed). A templated
  link that a form can expand (payment options, a collection's ``search``)
  is a GET form too, with a hidden ``_blank=omit`` asking the server to drop
  the blank fields a browser sends. A field's ``error`` (a form shown again after a
  refusal) shows next to it, with the value that was typed kept. A boolean (``checkbox``) field is a
  ``<select>`` of ``true`` and ``false``: an unticked checkbox sends nothing,
  so it could never set false, and a hidden ``false`` beside it would send
  the name twice. A number input takes any decimal (``step="any"``), since
  amounts have cents.
- An error document (kind ``errors``) lists its errors: field, message, logref.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
from lxml.html import HtmlElement
from lxml.html import builder as E

from .encoding import text, xml_safe
from .model import Action, Field, Link, PageContext, Resource, embedded_of, links_of
from .negotiation import FORMAT_NAMES
from .renderer import Renderer
from .templates import link_actions

FORM_URLENCODED = "application/x-www-form-urlencoded"
METHOD_OVERRIDE = "_method"
BOOLEAN_OPTIONS = ("true", "false")

#: Property columns of a collection's table: the first ones, which matter most.
TABLE_COLUMNS = 6
#: The other media types a page links to: (label, ``format`` value).
ALTERNATES = (("HAL", "hal"), ("HAL+XML", "xml"), ("Siren", "siren"), ("JSON", "json"),
              ("HAL-FORMS", "hal-forms"))
#: The hidden field of a GET form: blank fields mean "not given" (the server drops them).
BLANK_MARKER = ("_blank", "omit")
PAGER = (("first", "« First"), ("prev", "‹ Previous"), ("next", "Next ›"), ("last", "Last »"))


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
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, dict) for item in value):
        return record_table(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return E.UL(*[E.LI(value_node(item)) for item in value])
    return safe(value)


def record_table(records: list | tuple) -> HtmlElement:
    """A list of mappings (the fields a write takes, say) as a table: a row each."""
    columns: dict[Any, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    head = E.THEAD(E.TR(*[E.TH(safe(column)) for column in columns]))
    body = E.TBODY(*[
        E.TR(*[E.TD(value_node(record[column])) if column in record else E.TD() for column in columns])
        for record in records
    ])
    return E.TABLE(_attrs(class_="records"), head, body)


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
    """A table of a collection's items: a link to each, then its first properties."""
    columns: dict[str, None] = {}
    for item in items:
        columns.update(dict.fromkeys(item.properties))
    columns = dict.fromkeys(list(columns)[:TABLE_COLUMNS])
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
    message = text(entry.get("message"))
    if entry.get("field") is not None:
        field = text(entry["field"])
        parts += [E.CODE(_attrs(class_="field"), safe(field)), ": "]
        message = message.removeprefix(f"{field}: ")  # the field is named once, not twice
    parts.append(E.SPAN(_attrs(class_="message"), safe(message)))
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


def pager(resource: Resource) -> HtmlElement:
    """First / previous / next / last of a collection page, as it has them."""
    entries = []
    for rel, label in PAGER:
        link = resource.links.get(rel)
        if isinstance(link, Link):
            entries.append(E.A(_attrs(href=link.href, rel=rel, class_="page"), label))
        else:
            entries.append(E.SPAN(_attrs(class_="page disabled"), label))
    return E.NAV(_attrs(class_="pager"), *entries)


def with_format(href: str, name: str) -> str:
    """``href`` asking for the media type ``name`` (``?format=``)."""
    parts = urlsplit(href)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "format"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("format", name)])))


def breadcrumbs(resource: Resource, context: PageContext) -> HtmlElement | None:
    """Links from the API's home down the path of ``resource``'s URL."""
    href = resource.self_href
    if not href or not context.home:
        return None
    root = context.home.rstrip("/")
    if not href.startswith(root):
        return None
    path = urlsplit(href).path[len(urlsplit(root).path):]
    segments = [segment for segment in path.split("/") if segment]
    crumbs: list[Any] = [E.A(_attrs(href=context.home, rel="home"), "Home")]
    for depth, segment in enumerate(segments):
        crumbs.append(" / ")
        if depth < len(segments) - 1:
            crumbs.append(E.A(_attrs(href=root + "/" + "/".join(segments[:depth + 1])), safe(segment)))
        else:
            crumbs.append(E.SPAN(_attrs(class_="here"), safe(segment)))
    return E.NAV(_attrs(class_="breadcrumbs"), *crumbs)


def alternates(resource: Resource) -> HtmlElement | None:
    """The same URL in the other media types, one click away."""
    href = resource.self_href
    if not href:
        return None
    parts: list[Any] = ["As "]
    for label, name in ALTERNATES:
        parts += [E.A(_attrs(href=with_format(href, name), type=FORMAT_NAMES[name], rel="alternate"), label),
                  " "]
    return E.NAV(_attrs(class_="formats"), *parts)


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
    if field.error:
        widget.set("aria-invalid", "true")
        widget.set("aria-describedby", f"{id_}-error")
        notes += [" ", E.STRONG(_attrs(class_="field-error", id=f"{id_}-error"), safe(field.error))]
    return E.P(_attrs(class_="field invalid" if field.error else "field"), label, " ", widget, *notes)


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
    if method == "GET":
        # A browser sends every field of a GET form, blank ones too: this asks the
        # server to read a blank one as not given.
        fieldset.append(E.INPUT(_attrs(type="hidden", name=BLANK_MARKER[0], value=BLANK_MARKER[1])))
    if method != "GET" and context is not None and context.csrf_token:
        fieldset.append(E.INPUT(_attrs(type="hidden", name=context.csrf_field, value=context.csrf_token)))
    if method not in ("GET", "POST"):
        fieldset.append(E.INPUT(_attrs(type="hidden", name=METHOD_OVERRIDE, value=method)))
    for position, field in enumerate(action.fields):
        fieldset.append(control(field, f"action{number}-field{position}"))
    if method == "DELETE":
        box = E.INPUT(_attrs(type="checkbox", name="_confirm", value="yes", id=f"action{number}-confirm"))
        box.set("required", "required")
        fieldset.append(E.P(_attrs(class_="confirm"), box, " ",
                            E.LABEL(_attrs(for_=f"action{number}-confirm"), "Yes, delete it for good")))
    button_class = "danger" if method == "DELETE" else None
    fieldset.append(E.P(E.BUTTON(_attrs(type="submit", class_=button_class), safe(action.title or action.name))))
    return E.FORM(attributes, fieldset)


def header(context: PageContext) -> HtmlElement:
    """The page's header: the API's home, who is signed in, and signing out or in."""
    parts: list[Any] = []
    if context.home:
        parts.append(E.A(_attrs(href=context.home, rel="home", class_="home"), "Flexigift API"))
    parts.append(E.SPAN(_attrs(class_="spacer")))
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
        head = E.HEAD(E.META(charset="utf-8"),
                      E.META(name="viewport", content="width=device-width, initial-scale=1"),
                      E.TITLE(safe(title)))
        if context is not None and context.stylesheet:
            head.append(E.LINK(_attrs(rel="stylesheet", href=context.stylesheet)))
        top: list[HtmlElement] = []
        if context is not None:
            top.append(header(context))
            navigation = [part for part in (breadcrumbs(resource, context), alternates(resource))
                          if part is not None]
            if navigation:
                top.append(E.DIV(_attrs(class_="navigation"), *navigation))
        main = E.MAIN(heading(1, title), *self.sections(resource, resource, level=2, context=context))
        return E.HTML({"lang": "en"}, head, E.BODY(*top, main))

    def sections(self, resource: Resource, root: Resource, level: int,
                 context: PageContext | None = None) -> list[HtmlElement]:
        """The parts of a resource's page; ``level`` is the heading level to use."""
        properties = property_list(resource.properties)
        parts = [self.section("properties", "Properties", level, properties)]
        links = [self.section("links", "Links", level, link_list(resource, root))] if resource.links else []
        if not resource.is_collection:
            parts += links  # an item's links are its way around; a page's come after its items
        for rel, embedded in resource.embedded.items():
            parts.append(self.embedded_section(resource, root, rel, embedded, level, context))
        actions = [*resource.actions, *link_actions(resource)]
        if actions:
            forms = [form(action, number, context) for number, action in enumerate(actions)]
            parts.append(self.section("actions", "Actions", level, *forms))
        if resource.is_collection:
            parts += links
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
            return self.section("items", "Items", level, pager(resource), items_table(items))
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
