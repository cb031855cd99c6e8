"""The contract every renderer follows, and the registry of renderers."""
from __future__ import annotations

from typing import ClassVar

from .model import PageContext, Resource


class Renderer:
    """Turns a :class:`Resource` into bytes of one media type.

    Subclasses set ``media_type`` (and ``aliases``, other names clients use for
    it) and implement :meth:`render`. A renderer never touches the database or
    the HTTP request: everything it shows is in the resource.
    """

    media_type: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    charset: ClassVar[str | None] = None
    #: Whether documents of this type show actions (so they are worth building).
    shows_actions: ClassVar[bool] = False
    #: Whether the items of a collection page show their own actions too.
    shows_item_actions: ClassVar[bool] = False

    @property
    def content_type(self) -> str:
        if self.charset:
            return f"{self.media_type}; charset={self.charset}"
        return self.media_type

    def render(self, resource: Resource, context: PageContext | None = None) -> bytes:
        """``resource`` as bytes; ``context`` matters only to pages for people (HTML)."""
        raise NotImplementedError
