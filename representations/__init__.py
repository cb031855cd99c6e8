"""Flexigift's representation library: an internal model of a resource,
content negotiation, and one renderer per media type.

It depends on neither the application nor the database: hand it a
:class:`Resource` and a renderer, get bytes back.
"""
from .hal_forms import HalFormsRenderer
from .hal_json import HalJsonRenderer
from .hal_xml import HalXmlRenderer
from .html import HtmlRenderer
from .model import Action, Curie, Field, Link, PageContext, Resource, error_document
from .negotiation import parse_accept, select
from .plain_json import PlainJsonRenderer
from .renderer import Renderer
from .siren import SirenRenderer

#: Every renderer, in the server's order of preference (the first answers ``*/*``).
RENDERERS: list[Renderer] = [
    HalJsonRenderer(),
    HalXmlRenderer(),
    SirenRenderer(),
    PlainJsonRenderer(),
    HtmlRenderer(),
    HalFormsRenderer(),
]


#: Accept header → the renderer it chose (a few values recur; the whole cache goes when full).
_CHOSEN: dict[str | None, Renderer | None] = {}
_CHOSEN_MAX = 512


def register(renderer: Renderer) -> None:
    """Add a renderer; adding a media type is writing its module and calling this."""
    RENDERERS.append(renderer)
    _CHOSEN.clear()


def supported_media_types() -> list[str]:
    return [renderer.media_type for renderer in RENDERERS]


def renderer_for(accept: str | None) -> Renderer | None:
    """The renderer the client prefers, or ``None`` (answer 406)."""
    try:
        return _CHOSEN[accept]
    except KeyError:
        pass
    chosen = select(accept, RENDERERS)
    if accept is not None and len(accept) > 500:
        return chosen  # not a header a client sends every time
    if len(_CHOSEN) >= _CHOSEN_MAX:
        _CHOSEN.clear()
    _CHOSEN[accept] = chosen
    return chosen


__all__ = [
    "Action", "Curie", "Field", "Link", "PageContext", "Resource", "Renderer", "RENDERERS",
    "HalFormsRenderer", "HalJsonRenderer", "HalXmlRenderer", "HtmlRenderer", "PlainJsonRenderer",
    "SirenRenderer", "error_document", "parse_accept",
    "register", "renderer_for", "select", "supported_media_types",
]
