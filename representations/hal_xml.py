"""HAL+XML, in the shape the Foxy hAPI gives it.

::

    <?xml version='1.0' encoding='UTF-8'?>
    <resource href="<self href>" rel="<relation URI>">
      <link rel="self" href="..." title="..."/>
      <link rel="<relation URI>" href="..." title="..." templated="true"/>
      <resource href="<item self href>" rel="<embedding relation URI>">...</resource>
      <name>value</name>
    </resource>

XML has no types, so each kind of value has one fixed spelling:

- Relations are written in full: ``fg:users`` becomes the URI its curie gives,
  the outermost resource's curies applying to everything nested; XML gets no
  curie links. The outer ``<resource>`` carries the resource's own relation,
  an embedded one the relation it is embedded under; ``href`` is the self link,
  left out when there is none.
- Children come in Foxy's order: links, embedded resources, then properties.
- A property is an element named after it. A name that is no XML name
  (``1abc``, ``a b``, ``x:y``, the empty name), a name starting with ``xml``
  (reserved by XML) and the structural names ``resource``, ``link`` and
  ``property`` are written ``<property name="...">`` instead, so a
  ``<resource>`` or ``<link>`` child is always structure, never data.
- ``None`` is an empty element (as Foxy writes a null); booleans are
  ``true``/``false``; decimals their exact digits; dates and times ISO 8601.
- A list is an element holding one ``<item>`` per entry
  (``<gift_cards><item>A1</item><item>B2</item></gift_cards>``); a mapping is
  an element holding one child per key, named by the property rule above.
- Characters XML 1.0 cannot carry (NUL and the other C0 controls except tab,
  LF and CR; lone surrogates; U+FFFE, U+FFFF) are replaced by U+FFFD in text,
  attribute values and names, so any content gives a well-formed document.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

from .encoding import text, xml_safe
from .model import Link, PageContext, Resource, embedded_of, links_of
from .renderer import Renderer

RESOURCE = "resource"
LINK = "link"
PROPERTY = "property"
ITEM = "item"

# Element names that mean structure; data never takes them.
_RESERVED = frozenset({RESOURCE, LINK, PROPERTY})


def _set(element: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        element.set(name, xml_safe(value))


def _is_element_name(name: str) -> bool:
    return (
        bool(name)
        and name not in _RESERVED
        and not name.lower().startswith("xml")
        and name == xml_safe(name)
    )


def property_element(parent: etree._Element, name: str) -> etree._Element:
    """A child of ``parent`` for the property ``name``: ``<name>`` when it can be."""
    if _is_element_name(name):
        try:
            return etree.SubElement(parent, name)
        except ValueError:  # lxml's verdict on what an XML name is
            pass
    element = etree.SubElement(parent, PROPERTY)
    element.set("name", xml_safe(name))
    return element


def fill(element: etree._Element, value: Any) -> None:
    """Write ``value`` into ``element``: text for a scalar, children for the rest."""
    if isinstance(value, dict):
        for key, item in value.items():
            fill(property_element(element, str(key)), item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            fill(etree.SubElement(element, ITEM), item)
    else:
        # Empty text rather than none, so a null reads <x></x> as in Foxy.
        element.text = xml_safe(text(value))


def link_element(parent: etree._Element, rel: str, link: Link) -> etree._Element:
    """One ``<link rel href title templated>`` child of ``parent``."""
    element = etree.SubElement(parent, LINK)
    _set(element, "rel", rel)
    _set(element, "href", link.href)
    _set(element, "title", link.title)
    if link.templated:
        element.set("templated", "true")
    return element


class HalXmlRenderer(Renderer):
    """Renders a resource as a HAL+XML document, built with lxml."""

    media_type = "application/hal+xml"
    aliases = ("application/xml", "text/xml")
    charset = "utf-8"

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        return etree.tostring(
            self.element(resource),
            xml_declaration=True,
            encoding="UTF-8",
            pretty_print=True,
        )

    def element(
        self,
        resource: Resource,
        root: Resource | None = None,
        rel: str | None = None,
        parent: etree._Element | None = None,
    ) -> etree._Element:
        """The ``<resource>`` element of ``resource`` (a child of ``parent`` if given).

        ``root`` is the outermost resource, whose curies expand every relation;
        ``rel`` the relation ``resource`` is embedded under.
        """
        root = root or resource
        rel = rel or (resource.rel if resource is root else None)
        if parent is None:
            element = etree.Element(RESOURCE)
        else:
            element = etree.SubElement(parent, RESOURCE)
        _set(element, "href", resource.self_href)
        _set(element, "rel", root.expand_rel(rel) if rel else None)
        self.fill_resource(element, resource, root)
        return element

    def fill_resource(
        self, element: etree._Element, resource: Resource, root: Resource
    ) -> None:
        """Add the links, embedded resources and properties of ``resource``."""
        for link_rel, links in resource.links.items():
            for link in links_of(links):
                link_element(element, root.expand_rel(link_rel), link)
        for embedded_rel, embedded in resource.embedded.items():
            for item in embedded_of(embedded):
                self.element(item, root, embedded_rel, element)
        for name, value in resource.properties.items():
            fill(property_element(element, str(name)), value)
