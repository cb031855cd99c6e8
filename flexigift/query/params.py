"""Reading a collection's query string: paging, order, fields, zoom and filters.

Everything is checked here against nothing but syntax; names are checked
against what the resource declares by :mod:`flexigift.query.collection`.
Every problem is a 400 naming the parameter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from werkzeug.datastructures import MultiDict

from ..errors import BadRequest

RESERVED = ("limit", "offset", "order", "fields", "zoom", "after", "before", "format")
OPERATORS = ("not", "in", "lessthan", "lessthanorequal", "greaterthan", "greaterthanorequal", "isdefined")
MAX_ZOOM_DEPTH = 3
MAX_OFFSET = 2**63 - 1  # the largest OFFSET SQLite and PostgreSQL accept (a 500 beyond it)
MAX_ID = 2**63 - 1  # the largest id a seek can start from
#: Filters on zoomed children per request: each is a subquery, and PostgreSQL's planning
#: time grows steeply with their number (40 take seconds, 60 pass the statement timeout).
MAX_CHILD_FILTERS = 8


@dataclass(frozen=True)
class FilterTerm:
    """One filter: ``path`` of zoomed children (empty for the item itself), field, operator, text."""

    parameter: str
    path: tuple[str, ...]
    field: str
    op: str
    text: str


@dataclass
class PageRequest:
    """What a client asked of a collection page."""

    limit: int
    offset: int
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    fields: list[str] | None = None
    zoom: dict[str, dict] = field(default_factory=dict)
    filters: list[FilterTerm] = field(default_factory=list)
    #: Seek pagination: the page starts just after (or ends just before) the item with this id.
    after: int | None = None
    before: int | None = None

    @property
    def seeking(self) -> bool:
        return self.after is not None or self.before is not None


def _whole_number(args: Mapping[str, str], name: str, default: int, maximum: int | None) -> int:
    text = args.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit():
        raise BadRequest(f"Query parameter {name} must be a whole number ≥ 0, not {text!r}.",
                         name, logref="bad_parameter")
    value = int(text)
    if maximum is not None and value > maximum:
        raise BadRequest(f"Query parameter {name} must be at most {maximum}, not {value}.",
                         name, logref="bad_parameter")
    return value


def _names(text: str, parameter: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise BadRequest(f"Query parameter {parameter} has an empty name in {text!r}.",
                         parameter, logref="bad_parameter")
    return names


def parse_order(text: str) -> list[tuple[str, bool]]:
    order = []
    for part in _names(text, "order"):
        words = part.split()
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            order.append((words[0], words[1].lower() == "desc"))
        elif len(words) == 1:
            order.append((words[0], False))
        else:
            raise BadRequest(f"Query parameter order: {part!r} is not 'field', 'field asc' or "
                             "'field desc'.", "order", logref="bad_parameter")
    return order


def parse_zoom(text: str) -> dict[str, dict]:
    """``gift_cards:transactions,user`` → ``{"gift_cards": {"transactions": {}}, "user": {}}``."""
    tree: dict[str, dict] = {}
    for part in _names(text, "zoom"):
        path = part.split(":")
        if len(path) > MAX_ZOOM_DEPTH or not all(path):
            raise BadRequest(f"Query parameter zoom: {part!r} is deeper than {MAX_ZOOM_DEPTH} "
                             "levels or has an empty name.", "zoom", logref="bad_zoom")
        node = tree
        for name in path:
            node = node.setdefault(name, {})
    return tree


def parse_filter(parameter: str, text: str) -> FilterTerm:
    if "\x00" in text:  # PostgreSQL refuses NUL in text (a 500) and SQLite's LIKE stops at it
        raise BadRequest(f"Query parameter {parameter} contains a NUL character.", parameter, logref="bad_filter")
    parts = parameter.split(":")
    op = "eq"
    if len(parts) > 1 and parts[-1] in OPERATORS:
        op = parts.pop()
    if not all(parts):
        raise BadRequest(f"Query parameter {parameter!r} is not a filter (field, field:operator "
                         "or child:field).", parameter, logref="bad_filter")
    return FilterTerm(parameter, tuple(parts[:-1]), parts[-1], op, text)


def parse_page_request(args: MultiDict, default_limit: int, max_limit: int) -> PageRequest:
    """The page a query string asks for (400 for anything malformed)."""
    for name in RESERVED:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"Query parameter {name} is given more than once.", name,
                             logref="bad_parameter")
    request = PageRequest(
        limit=_whole_number(args, "limit", default_limit, max_limit),
        offset=_whole_number(args, "offset", 0, MAX_OFFSET),
    )
    if "after" in args and "before" in args:
        raise BadRequest("Query parameters after and before cannot be used together.", "after",
                         logref="bad_parameter")
    for name in ("after", "before"):
        if name in args:
            setattr(request, name, _whole_number(args, name, 0, MAX_ID))
    if "order" in args:
        request.order = parse_order(args["order"])
    if "fields" in args:
        request.fields = _names(args["fields"], "fields")
    if "zoom" in args:
        request.zoom = parse_zoom(args["zoom"])
    for parameter, text in args.items(multi=True):
        if parameter not in RESERVED:
            request.filters.append(parse_filter(parameter, text))
    children = [term for term in request.filters if term.path]
    if len(children) > MAX_CHILD_FILTERS:
        first = children[0]
        raise BadRequest(f"At most {MAX_CHILD_FILTERS} filters on zoomed children are taken in one "
                         f"request, not {len(children)}: join values with :in "
                         f"({':'.join((*first.path, first.field))}:in=a,b,c).", first.parameter,
                         logref="too_many_filters")
    return request
