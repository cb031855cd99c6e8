"""Building a collection page: filters, order, paging and zoom over one
endpoint, in a fixed number of queries (one for the page, one for the count,
and one per zoomed relation, plus whatever fixed prefetch an endpoint needs).
"""
from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Callable

import peewee

from ..db import database, is_postgres
from ..errors import BadRequest
from ..models import COUNTED, RowCount
from .fields import combined
from .params import OPERATORS, FilterTerm, PageRequest
from .compiled import TemplateSelect
from .shapes import Condition


#: A page of the whole table this far in (or more) is found by the range of ids it holds, when
#: the ids have no gap (:meth:`CollectionQuery._dense_ids`); nearer the ends, skipping rows costs less.
DENSE_FROM = 1000

#: Filtered collections are counted up to this many by default (``FLEXIGIFT_COUNT_CAP``);
#: past it the total is "more than" it.
COUNT_CAP = 1_000


@dataclass
class Page:
    """The rows of one page and what is known of the whole collection."""

    rows: list[peewee.Model]
    total: int | None
    has_next: bool
    #: Whether a page comes before this one (None: it does when the offset is not 0).
    has_prev: bool | None = None
    #: When the total was not counted to the end: the collection has more items than this.
    more_than: int | None = None


def planned_once(limit: int) -> peewee.SQL:
    """A page's LIMIT written into its SQL as a number, not sent as a parameter, for a
    query no parameter's value could plan differently (no filter, no scope).

    PostgreSQL plans a prepared statement once for all values (a generic plan) only
    when that plan looks no dearer than plans made for the values at hand; a LIMIT it
    cannot see it takes for a tenth of the table, so the page's statement would be
    planned anew at every request, which costs about twice what running it does. Written
    out, the limit (one of a few hundred values) leaves the generic plan as cheap as it is.
    A filter's values stay parameters: there the plan made for them is the better one.
    """
    return peewee.SQL(str(int(limit)))


def _unknown(parameter: str, what: str, name: str, known) -> BadRequest:
    choices = ", ".join(sorted(known)) or "none"
    return BadRequest(f"Query parameter {parameter}: unknown {what} {name!r} (known: {choices}).",
                      parameter, logref=f"unknown_{what.replace(' ', '_')}")


def _ordered(key, descending: bool, nullable: bool):
    """``key`` in order; NULLs count as larger than any value on every database
    (PostgreSQL's rule: SQLite's is the opposite, so it is spelled out)."""
    if not nullable:  # the plain form, which an index can serve on both
        return key.desc() if descending else key.asc()
    return key.desc(nulls="FIRST") if descending else key.asc(nulls="LAST")


class _Anchored:
    """An anchor's order value not read yet: a scalar subquery of the page's query."""

    def __init__(self, query: peewee.ModelSelect):
        self.query = query

    def is_null(self, null: bool = True) -> peewee.Expression:
        return peewee.Expression(self.query, peewee.OP.IS if null else peewee.OP.IS_NOT, None)


def _same(key, value) -> Any:
    if isinstance(value, _Anchored):
        return (key == value.query) | (key.is_null() & value.is_null())
    return key.is_null() if value is None else key == value


def _past(key, value, larger: bool, nullable: bool) -> Any:
    """``key`` beyond ``value``: larger (NULL being largest of all) or smaller."""
    if isinstance(value, _Anchored):  # the same rules, with the NULL tests in SQL
        anchor = value.query
        if larger:
            return (value.is_null(False) & ((key > anchor) | key.is_null())) if nullable else key > anchor
        return (key < anchor) | (value.is_null() & key.is_null(False)) if nullable else key < anchor
    if larger:
        if value is None:
            return None  # nothing is larger than NULL
        return (key > value) | key.is_null() if nullable else key > value
    if value is None:
        return key.is_null(False)
    return key < value


class CollectionQuery:
    """One page of an endpoint's collection, as a :class:`PageRequest` describes it."""

    def __init__(self, endpoint, request: PageRequest, lookup: Callable[[str], Any],
                 scope: Any = None, visible: Callable[[str], Any] | None = None,
                 count_cap: int = COUNT_CAP):
        self.endpoint = endpoint
        self.count_cap = count_cap
        self.request = request
        self.lookup = lookup  # endpoint name → endpoint
        self.scope = scope
        self.visible = visible or (lambda kind: None)  # kind → condition rows must meet to be seen
        self._check_zoom(endpoint, request.zoom, "zoom")
        self._check_fields()

    # -- validation --------------------------------------------------------
    def _check_zoom(self, endpoint, tree: dict, parameter: str) -> None:
        for name, children in tree.items():
            zoom = endpoint.zoomable.get(name)
            if zoom is None:
                raise _unknown(parameter, "zoom", name, endpoint.zoomable)
            self._check_zoom(self.lookup(zoom.target), children, parameter)

    def _check_fields(self) -> None:
        if self.request.fields is None:
            return
        known = self.endpoint.property_names()
        for name in self.request.fields:
            if name not in known:
                raise _unknown("fields", "field", name, known)

    # -- the query ----------------------------------------------------------
    def conditions(self) -> list[Any]:
        conditions = [self.scope] if self.scope is not None else []
        for term in self.request.filters:
            conditions.append(self._condition(term))
        return conditions

    def _condition(self, term: FilterTerm) -> Any:
        endpoint, zooms, tree = self.endpoint, [], self.request.zoom
        if len(term.path) == 1 and term.path[0] in endpoint.filterable and term.path[0] not in endpoint.zoomable:
            raise BadRequest(f"Query parameter {term.parameter}: unknown operator {term.field!r} "
                             f"(known: {', '.join(OPERATORS)}).", term.parameter, logref="unknown_operator")
        for name in term.path:
            if name not in tree:
                raise BadRequest(f"Query parameter {term.parameter}: filtering on {name!r} needs "
                                 f"zoom={name}.", term.parameter, logref="bad_filter")
            zoom = endpoint.zoomable[name]
            zooms.append((endpoint, zoom))
            endpoint, tree = self.lookup(zoom.target), tree[name]
        try:
            condition = self._field_condition(endpoint, term)
        except BadRequest as error:
            error.field = term.parameter
            raise
        for parent, zoom in reversed(zooms):
            target = self.lookup(zoom.target)
            seen = self.visible(target.kind)
            if seen is not None:
                condition = condition & seen  # a zoomed child the principal cannot see matches nothing
            condition = zoom.parents_matching(parent.model, target, condition)
        return condition

    def _field_condition(self, endpoint, term: FilterTerm) -> Any:
        filterable = endpoint.filterable.get(term.field)
        if filterable is None:
            raise _unknown(term.parameter, "field", term.field, endpoint.filterable)
        text = term.text
        if term.op == "isdefined":
            if text.lower() not in ("true", "false"):
                raise BadRequest(f"Query parameter {term.parameter} must be true or false.",
                                 term.parameter, logref="bad_filter")
            return filterable.is_defined(text.lower() == "true")
        if term.op == "in":
            return filterable.one_of([filterable.parse(part, term.parameter) for part in text.split(",")])
        if term.op == "eq" and ".." in text:
            low, _, high = text.partition("..")
            return filterable.between(filterable.parse(low, term.parameter),
                                      filterable.parse(high, term.parameter))
        if term.op in ("eq", "not") and filterable.supports_wildcards and (
                text.startswith("*") or text.endswith("*")):
            like = filterable.like(text)
            return like if term.op == "eq" else (~like | filterable.column.is_null())
        return filterable.compare(term.op, filterable.parse(text, term.parameter))

    def ordering(self, reverse: bool = False) -> list[Any]:
        """The ORDER BY keys (``reverse``: the same order backwards, NULLs included)."""
        keys = []
        for name, descending in self.request.order:
            filterable = self.endpoint.filterable.get(name)
            if filterable is None or not filterable.orderable:
                known = [key for key, value in self.endpoint.filterable.items() if value.orderable]
                raise _unknown("order", "order field", name, known)
            keys.append((filterable.order_key(), descending != reverse, self._nullable(filterable)))
        keys.append((self.endpoint.model.id, reverse, False))  # a total order, so pages never overlap
        return [_ordered(key, descending, nullable) for key, descending, nullable in keys]

    def _nullable(self, filterable) -> bool:
        """Whether the order key can be NULL: a nullable column, or one from an outer join."""
        column = filterable.column
        return getattr(column, "null", True) or getattr(column, "model", None) is not self.endpoint.model

    def _joins_for(self, names: list[str]) -> bool:
        """Whether any of these filterable properties is a column of another table
        than the endpoint's (then the query starts from the endpoint's joined select)."""
        model = self.endpoint.model
        columns = [self.endpoint.filterable[name].column for name in names if name in self.endpoint.filterable]
        return any(getattr(column, "model", model) is not model for column in columns)

    def _source(self, joined: bool) -> peewee.ModelSelect:
        """The select a query of the collection starts from: the endpoint's, which joins
        what its properties need, when ``joined``; else the bare table."""
        return self.endpoint.select() if joined else self.endpoint.model.select()

    def page(self) -> Page:
        """The page's rows, in at most two queries: the count, and the page itself.

        The page selects its ids in a subquery over the bare table (joined only
        when a filter or the order needs it), so skipping ``offset`` rows never
        joins them; past the middle of a counted collection it walks from the
        far end in reverse, so the last page costs what the first does. A page
        asked for by key (``after`` or ``before`` an item) skips nothing at all.
        On PostgreSQL a filtered page counts and finds its ids in one statement and
        reads its rows by id in the other (:meth:`_counted_page`).
        """
        if self.request.seeking:
            return self._seek_page()
        endpoint, request = self.endpoint, self.request
        conditions = self.conditions()
        where = Condition(combined(operator.and_, conditions) if conditions else None)
        ordering = self.ordering()  # checks the order fields before any query runs
        # Child filters (user:name=…) are subqueries on the item's own column: only
        # the item's own filters, and the order, can need the joined tables.
        filtered = [term.field for term in request.filters if not term.path]
        ordered = [name for name, _ in request.order]
        joined = self._joins_for(filtered + ordered)
        unfiltered = where.node is None
        if not unfiltered and endpoint.count_total and is_postgres():
            return self._counted_page(self._joins_for(filtered), joined, where, ordering)
        total = more_than = None
        if endpoint.count_total:
            total = self._count(self._joins_for(filtered), where)
            if total > self.count_cap and not unfiltered:
                total, more_than = None, self.count_cap
        limit, offset, reverse = request.limit + (total is None), request.offset, False
        if total is not None:
            limit = max(min(request.limit, total - offset), 0)
            if offset > total // 2:
                offset, reverse = total - offset - limit, True
        rows = None
        if limit and more_than is not None and not request.order and not is_postgres():
            rows = self._walked(joined, where, limit, offset)
        if rows is None:
            rows = self._rows(joined, where, self.ordering(reverse) if reverse else ordering, limit, offset,
                              reverse) if limit else []
        if reverse:
            rows.reverse()
        has_next = (request.offset + request.limit < total) if total is not None else len(rows) > request.limit
        return Page(rows[:request.limit], total, has_next, more_than=more_than)

    def _counted_page(self, joined_count: bool, joined: bool, where: Condition, ordering: list) -> Page:
        """PostgreSQL, a filtered page: the count and the page's ids in one statement, then
        the page's rows by their ids.

        The filter's values decide the best plan, so the statement that applies the filter
        is planned for them at each request; on its own that is a matter of two scans of
        one table. The rows, with their joins and the held amounts, are then read by a
        statement of ids alone, which PostgreSQL plans once (planning it with the filter
        in it cost twice what running it does). Two statements, as for any page.
        """
        endpoint, request, model = self.endpoint, self.request, self.endpoint.model

        def counted_ids(where: Any, slot: Callable[[str], Any]) -> peewee.Select:
            capped = (self._source(joined_count).where(where)
                      .select(peewee.SQL("1")).order_by().limit(slot("cap")))
            ids = (self._source(joined).select(model.id).where(where).order_by(*ordering)
                   .limit(slot("limit")).offset(slot("offset")))
            return peewee.Select(None, [peewee.Select([capped.alias("capped")], [peewee.fn.COUNT(peewee.SQL("*"))]),
                                        peewee.fn.ARRAY(ids)])

        sql, params = endpoint.shapes.sql(("counted page", tuple(request.order), joined_count, joined),
                                          counted_ids, where, cap=self.count_cap + 1,
                                          limit=request.limit + 1, offset=request.offset)
        total, ids = database.obj.execute_sql(sql, params).fetchone()
        more_than = None
        if total > self.count_cap:
            total, more_than = None, self.count_cap
        rows = endpoint.prepared(self._by_ids(False, ordering).fill_values(ids[:request.limit]))
        has_next = (request.offset + request.limit < total) if total is not None else len(ids) > request.limit
        return Page(rows, total, has_next, more_than=more_than)

    # -- seek pagination -------------------------------------------------------
    def _seek_page(self) -> Page:
        """The page just after (or before) an item, in the collection's order: a range
        of the order's index, however far into the collection the item is."""
        endpoint, request = self.endpoint, self.request
        model = endpoint.model
        conditions = self.conditions()
        ordering = self.ordering()
        forward = request.after is not None
        anchor = request.after if forward else request.before
        keys = self._order_keys()
        filtered = [term.field for term in request.filters if not term.path]
        ordered = [name for name, _ in request.order]
        joined = self._joins_for(filtered + ordered)
        seek = self._beyond(keys, self._anchor_keys(keys, anchor, joined), forward)
        where = Condition(combined(operator.and_, [*conditions, seek]))
        total = more_than = None
        if endpoint.count_total:
            total = self._count(self._joins_for(filtered),
                                Condition(combined(operator.and_, conditions) if conditions else None))
            if total > self.count_cap and conditions:
                total, more_than = None, self.count_cap
        order = ordering if forward else self.ordering(reverse=True)

        # With no filter or scope, only the anchor's id is a parameter: the limit is written out.
        written = planned_once(request.limit + 1) if not conditions else None

        def ids(where: Any, slot: Callable[[str], Any]) -> peewee.ModelSelect:
            return (self._source(joined).select(model.id).where(where).order_by(*order)
                    .limit(written if written is not None else slot("limit")))

        template = self._by_ids(not forward, order)
        rows = []
        if request.limit:
            key = ("seek", tuple(request.order), forward, joined, written.sql if written is not None else None)
            sql, params = endpoint.shapes.sql(key, ids, where, limit=request.limit + 1)
            rows = endpoint.prepared(template.fill(f"({sql})", params))
        if not rows and len(keys) > 1:
            self._anchor_values(keys, anchor, joined)  # nothing beyond it, or no such item: a 400 says which
        more = len(rows) > request.limit
        rows = rows[:request.limit]
        if not forward:
            rows.reverse()
        return Page(rows, total, has_next=more if forward else True,
                    has_prev=True if forward else more, more_than=more_than)

    def _order_keys(self) -> list[tuple[Any, bool, bool]]:
        """(key, descending, nullable) of each order key, the id last."""
        keys = []
        for name, descending in self.request.order:
            filterable = self.endpoint.filterable[name]
            keys.append((filterable.order_key(), descending, self._nullable(filterable)))
        keys.append((self.endpoint.model.id, False, False))
        return keys

    def _anchor_values(self, keys: list, anchor: int, joined: bool) -> list[Any]:
        """The order keys' values of the item a seek starts from (just its id when the
        order is by id alone; else read from the item, which must still be there)."""
        if len(keys) == 1:
            return [anchor]
        endpoint, model = self.endpoint, self.endpoint.model
        query = (endpoint.select() if joined else model.select()).select(*[key for key, _, _ in keys])
        query = query.where(model.id == anchor)
        if self.scope is not None:
            query = query.where(self.scope)
        row = query.tuples().first()
        if row is None:
            parameter = "after" if self.request.after is not None else "before"
            raise BadRequest(f"Query parameter {parameter}: there is no {endpoint.kind.replace('_', ' ')} "
                             f"with id {anchor} to page from (it may have been deleted); start again "
                             "from the first page.", parameter, logref="bad_parameter")
        return list(row)

    def _anchor_keys(self, keys: list, anchor: int, joined: bool) -> list[Any]:
        """The order keys' values of the anchor as subqueries of the page's own query, so
        a seek costs no query of its own (just the id when the order is by id alone)."""
        if len(keys) == 1:
            return [anchor]
        endpoint, model = self.endpoint, self.endpoint.model
        anchors = []
        for key, _, _ in keys[:-1]:
            query = (endpoint.select() if joined else model.select()).select(key).where(model.id == anchor)
            if self.scope is not None:
                query = query.where(self.scope)
            anchors.append(_Anchored(query))
        return [*anchors, anchor]

    @staticmethod
    def _beyond(keys: list, values: list, forward: bool) -> Any:
        """Rows strictly after (``forward``) or before the anchor, in the order ``keys``
        make (NULLs last going up, first going down, as :func:`_ordered` sorts them)."""
        alternatives = []
        for position, ((key, descending, nullable), value) in enumerate(zip(keys, values)):
            larger = forward != descending  # beyond the anchor lie larger values
            beyond = _past(key, value, larger, nullable)
            if beyond is None:
                continue
            ties = [_same(other, other_value) for (other, _, _), other_value
                    in zip(keys[:position], values[:position])]
            alternatives.append(functools.reduce(operator.and_, [*ties, beyond]))
        if not alternatives:
            return peewee.SQL("1 = 0")
        return functools.reduce(operator.or_, alternatives)

    def _count(self, joined: bool, where: Condition) -> int:
        """The rows ``where`` matches (from the endpoint's joined select, ``joined``),
        up to one past the cap when there is a condition."""
        endpoint, model = self.endpoint, self.endpoint.model
        if where.node is not None:
            # Counting stops past the cap: a filter matching millions costs what the cap does.
            def capped_count(where: Any, slot: Callable[[str], Any]) -> peewee.Select:
                capped = (self._source(joined).where(where)
                          .select(peewee.SQL("1")).order_by().limit(slot("cap")))
                return peewee.Select([capped.alias("capped")], [peewee.fn.COUNT(peewee.SQL("*"))])

            sql, params = endpoint.shapes.sql(("count", joined), capped_count, where, cap=self.count_cap + 1)
            return database.obj.execute_sql(sql, params).fetchone()[0]
        # The whole table: the same SQL every time, so it is written once; it reads
        # the counters triggers keep (a COUNT(*) would read every row).

        def whole_table(hole):
            if model not in COUNTED:
                return model.select(peewee.fn.COUNT(peewee.SQL("*")))
            return (RowCount.select(peewee.fn.COALESCE(peewee.fn.SUM(RowCount.rows), 0))
                    .where(RowCount.table_name == model._meta.table_name))

        return self.endpoint.template(("count",), whole_table, raw=True).fill("", [])[0][0]

    def _walked(self, joined: bool, where: Condition, limit: int, offset: int) -> list[peewee.Model] | None:
        """SQLite, a filter matching more than the cap, in id order: the page found by a walk of
        the first :attr:`count_cap` ids (or None when it holds fewer than the page's rows).

        SQLite would read every match from the filter's index and sort them all by id; a
        filter that matches that many usually has the page's rows among the first ids. Those
        are exactly the page's rows when there are ``offset + limit`` matches among them: every
        match beyond has a larger id. ``+(…)`` keeps SQLite from reading the filter's index.
        """
        if offset + limit > self.count_cap:
            return None
        endpoint, model = self.endpoint, self.endpoint.model

        def walked_ids(where: Any, slot: Callable[[str], Any]) -> peewee.ModelSelect:
            first = model.select(peewee.fn.MIN(model.id))
            walk = peewee.NodeList((peewee.SQL("+"), peewee.NodeList((where,), parens=True)), glue="")
            return (self._source(joined).select(model.id)
                    .where(walk, model.id < peewee.Expression(first, "+", slot("cap")))
                    .order_by(model.id).limit(slot("limit")).offset(slot("offset")))

        sql, params = endpoint.shapes.sql(("walk", joined), walked_ids, where,
                                          cap=self.count_cap, limit=limit, offset=offset)
        rows = endpoint.prepared(self._by_ids(False, self.ordering()).fill(f"({sql})", params))
        return rows if len(rows) == limit else None

    def _rows(self, joined: bool, where: Condition, ordering: list, limit: int, offset: int,
              reverse: bool) -> list[peewee.Model]:
        """The rows of the page: the endpoint's select for the ids ``where`` picks (from the
        endpoint's joined select, ``joined``), in one query."""
        endpoint, model = self.endpoint, self.endpoint.model
        key, unfiltered = (tuple(self.request.order), reverse), where.node is None
        if unfiltered and not self.request.order and offset >= DENSE_FROM and model in COUNTED:
            dense = self._dense_ids(limit, offset, reverse)
            return endpoint.prepared(self._by_ids(reverse, ordering).fill_query(dense))
        if unfiltered:
            # Only LIMIT and OFFSET change from one page to the next: the hole takes them,
            # the limit written out (see planned_once), and the offset of the first page too.
            template = endpoint.template(("page", *key), lambda hole: endpoint.select().where(model.id.in_(
                self._source(joined).select(model.id).order_by(*ordering).limit(hole))).order_by(*ordering))
            if not offset:
                return endpoint.prepared(template.fill(planned_once(limit).sql, []))
            return endpoint.prepared(template.fill(f"{planned_once(limit).sql} OFFSET {database.obj.param}",
                                                   [offset]))

        def ids(where: Any, slot: Callable[[str], Any]) -> peewee.ModelSelect:
            return (self._source(joined).select(model.id).where(where).order_by(*ordering)
                    .limit(slot("limit")).offset(slot("offset")))

        sql, params = endpoint.shapes.sql(("page", *key, joined), ids, where, limit=limit, offset=offset)
        return endpoint.prepared(self._by_ids(reverse, ordering).fill(f"({sql})", params))

    def _by_ids(self, reverse: bool, ordering: list) -> TemplateSelect:
        """The endpoint's select of the rows whose ids fill the hole, in ``ordering`` (the
        request's order, walked backwards when ``reverse``)."""
        endpoint, model = self.endpoint, self.endpoint.model
        return endpoint.template(("page of ids", tuple(self.request.order), reverse), lambda hole: endpoint.select(
            ).where(model.id.in_(hole)).order_by(*ordering))

    def _dense_ids(self, limit: int, offset: int, reverse: bool) -> peewee.ModelSelect:
        """The ids of a page of the whole table in id order, ``offset`` rows from the start (or
        from the end, ``reverse``), without walking them when the ids have no gap.

        When the table's counted rows are as many as the ids from the lowest to the highest,
        every id between is there, and the row ``offset`` rows on is the lowest id plus
        ``offset``: the page is a range of the primary key. The test is part of the page's
        own query, so it holds for the rows that query sees, whatever commits meanwhile; with
        a gap anywhere the same query skips ``offset`` rows as before.
        """
        model, limit, offset = self.endpoint.model, int(limit), int(offset)  # (PostgreSQL's SUM is a Decimal)
        lowest, highest = model.select(peewee.fn.MIN(model.id)), model.select(peewee.fn.MAX(model.id))
        counted = (RowCount.select(peewee.fn.COALESCE(peewee.fn.SUM(RowCount.rows), 0))
                   .where(RowCount.table_name == model._meta.table_name))
        span = peewee.Expression(peewee.Expression(highest, "-", lowest), "+", 1)
        skipped = peewee.Case(None, [(peewee.Expression(counted, "=", span), offset)], 0)  # rows the range skips
        if reverse:
            beyond = model.id <= peewee.Expression(highest, "-", skipped)
        else:
            beyond = model.id >= peewee.Expression(lowest, "+", skipped)
        order = model.id.desc() if reverse else model.id.asc()
        return (model.select(model.id).where(beyond).order_by(order)
                .limit(planned_once(limit)).offset(peewee.Expression(offset, "-", skipped)))
