"""The shortcuts a page of a large collection takes (SPEC 7) return exactly the rows of the
plain query: a deep page of the whole table read as a range of ids when they have no gap,
and, on SQLite, a filter matching more than the count cap walked in id order first. Each
is checked against the whole collection read in one page, for a spread of filters, orders
and offsets, with and without gaps in the ids; and the plans show each shortcut taken.
"""
from __future__ import annotations

import pytest
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collection_support import read_page
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.db import is_postgres
from flexigift.query import collection
from hypermedia import HAL
from query_count import count_queries
from query_plans import gift_card_plans

FILTERS = ["", "card_id=gap*", "card_id=GAP-1*", "card_id=*1", "balance:greaterthan=5",
           "balance:lessthan=3", "user_id=u*", "card_id:not=gap*"]
ORDERS = ["", "order=balance%20desc", "order=card_id"]
CARDS = 30


def _app(database_url: str, count_cap: int) -> webtest.TestApp:
    application = create_app(Config(database_url=database_url, auth=False, count_cap=count_cap))
    return webtest.TestApp(application, extra_environ={"HTTP_HOST": "localhost:3000"})


def _close(client: webtest.TestApp) -> None:
    db = client.app.extensions["flexigift_db"]
    if hasattr(db, "close_all"):
        db.close_all()


@pytest.fixture
def clients(database_url, monkeypatch):
    """A plain app and one that counts filtered collections up to 6 (so walks and their
    fall-backs happen at small sizes), both taking the id-range shortcut from offset 1."""
    monkeypatch.setattr(collection, "DENSE_FROM", 1)
    plain, capped = _app(database_url, 10_000), _app(database_url, 6)
    plain.post_json("/users", {"user_id": "u1", "name": "U"})
    for number in range(CARDS):
        card = {"card_id": f"{('gap', 'GAP', 'other')[number % 3]}-{number:02}", "issuer": "Gap",
                "balance": number % 9}
        if number % 4 == 0:
            card["user_id"] = "u1"
        plain.post_json("/gift_cards", card)
    yield plain, capped
    _close(plain)
    _close(capped)


def _ids(client, query: str) -> list[int]:
    page = read_page(client.get(f"/gift_cards?{query}", headers={"Accept": HAL}), "gift_cards")
    return [int(item.text("id")) for item in page.items]


def _delete(client, card_id: int) -> None:
    """A gap in the ids (the card and its ledger gone, as a card never issued would be)."""
    db = client.app.extensions["flexigift_db"]
    with db.connection_context(), db.atomic():
        db.execute_sql(f'DELETE FROM "transaction" WHERE gift_card_id = {int(card_id)}')
        db.execute_sql(f'DELETE FROM gift_card WHERE id = {int(card_id)}')


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FILTERS), st.sampled_from(ORDERS), st.integers(1, 7), st.booleans())
def test_every_page_holds_the_rows_of_the_plain_query(clients, filter_, order, limit, gap):
    plain, capped = clients
    if gap:  # one more gap in the ids (before any, they have none)
        everything = _ids(plain, "limit=300")
        _delete(plain, everything[len(everything) // 3])
    query = "&".join(part for part in (filter_, order) if part)
    whole = _ids(plain, f"limit=300&{query}")
    for offset in range(len(whole) + 2):
        expected = whole[offset:offset + limit]
        for client in (plain, capped):
            assert _ids(client, f"limit={limit}&offset={offset}&{query}") == expected, (query, offset, limit)


def test_a_deep_page_after_a_delete_or_an_insert_is_still_exact(clients):
    plain, _ = clients
    whole = _ids(plain, "limit=300")
    assert _ids(plain, "limit=5&offset=10") == whole[10:15]  # no gap yet: the range of ids
    _delete(plain, whole[3])
    whole = _ids(plain, "limit=300")
    assert _ids(plain, "limit=5&offset=10") == whole[10:15]  # a gap: the walk
    assert _ids(plain, "limit=5&offset=24") == whole[24:29]  # from the far end


# -- plans ------------------------------------------------------------------------
def test_a_deep_page_of_the_whole_table_is_a_range_of_ids(clients):
    plain, _ = clients
    with count_queries() as counted:
        plain.get("/gift_cards?limit=5&offset=10", headers={"Accept": HAL})
    assert counted.count == 2, counted.report()  # the count, the page
    [(sql, plan)] = gift_card_plans(plain, "/gift_cards?limit=5&offset=10")
    if "Index Cond" in plan or "Seq Scan" in plan or "Index Scan" in plan:  # PostgreSQL
        assert "Index Cond: (id >=" in plan, plan
    else:  # SQLite: the range of the narrow index of ids (migration 10)
        assert "COVERING INDEX gift_card_id (id>?)" in plan, plan


def test_sqlite_walks_a_filter_matching_more_than_the_cap_in_id_order(clients):
    _, capped = clients
    plans = gift_card_plans(capped, "/gift_cards?limit=2&card_id=gap*")
    count, page = plans[0], plans[-1]
    if "Index Cond" in page[1] or "Scan" in page[1]:
        pytest.skip("PostgreSQL chooses its own walk")
    assert " LIKE " not in count[0]  # the prefix is the index's range: the count reads the index alone
    assert "gift_card_card_id_lower" in count[1]
    assert "(rowid<?)" in page[1] and "TEMP B-TREE" not in page[1], page[1]
    with count_queries() as counted:
        capped.get("/gift_cards?limit=2&card_id=gap*", headers={"Accept": HAL})
    assert counted.count == 2, counted.report()  # the walk found the page: no second page query


# -- PostgreSQL's plan cache --------------------------------------------------------
#: psycopg prepares a statement on its 5th run; PostgreSQL then plans the first 5 runs of
#: a prepared statement for their values before it weighs one plan for all values.
RUNS = 12
#: Cards in the table.
LARGE = 5000


@pytest.fixture
def pg_client(client):
    """The app on PostgreSQL (the only app of the test: the models use its database),
    holding a user and :data:`LARGE` cards."""
    if not is_postgres(client.app.extensions["flexigift_db"]):
        pytest.skip("plans kept for prepared statements are PostgreSQL's (SQLite plans each one as it runs)")
    client.post_json("/users", {"user_id": "u1", "name": "U"})
    client.post_json("/gift_cards", {"card_id": "gap-0", "issuer": "Gap", "balance": 5, "user_id": "u1"})
    # Enough more cards that a plan for a LIMIT PostgreSQL cannot see (it guesses a tenth of
    # the table) looks dearer than one for 5 rows, as it does on any table of some size.
    db = client.app.extensions["flexigift_db"]
    columns = ("date_created, date_modified, user_id, issuer_id, balance, initial_balance, currency_code, "
               "status, single_use, rechargeable")
    with db.connection_context():
        db.execute_sql(f"INSERT INTO gift_card (card_id, {columns}) SELECT 'gap-' || n, {columns} "
                       "FROM gift_card, generate_series(1, %s) AS n", [LARGE - 1])
        db.execute_sql("ANALYZE gift_card")
    return client


def _plan_counts(client, needle: str) -> list[tuple[int, int]]:
    """(generic plans, custom plans) of each statement the app's connection has prepared
    whose SQL holds ``needle``."""
    db = client.app.extensions["flexigift_db"]
    with db.connection_context():  # the connection this thread's requests used
        return [tuple(row) for row in db.execute_sql(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE strpos(statement, %s) > 0",
            [needle])]


@pytest.mark.parametrize("query, needle", [
    ("limit=5&zoom=user", 'FROM "gift_card" AS "t1" ORDER BY "t1"."id" ASC LIMIT'),
    ("limit=5&zoom=user&after=3", '("t1"."id" > $3) ORDER BY "t1"."id" ASC LIMIT'),
    ("limit=5&order=balance%20desc&after=3", '"t1"."balance" DESC, "t1"."id" ASC LIMIT'),
    (f"limit=5&offset={collection.DENSE_FROM}", 'END)) ORDER BY "t1"."id" ASC LIMIT'),  # the range of ids
    # a filtered page: the rows of the ids the filter found (the filter itself is planned for its values)
    ("limit=5&card_id=gap-1*&zoom=user", 'WHERE ("t1"."id" IN ($3, $4, $5, $6, $7)) ORDER BY "t1"."id" ASC'),
])
def test_a_page_statement_no_value_could_plan_differently_is_planned_once(pg_client, query, needle):
    """The first page, the seek pages and a deep page of a collection read with no filter, and
    the rows of a filtered page: PostgreSQL keeps one plan for their statement rather than
    planning it anew at each request (planning the page's joins costs more than running them)."""
    for _ in range(RUNS):
        pg_client.get(f"/gift_cards?{query}", headers={"Accept": HAL})
    counts = _plan_counts(pg_client, needle)
    assert counts, f"the page's statement was never prepared: {needle}"
    assert all(generic > 0 and custom <= 5 for generic, custom in counts), counts
