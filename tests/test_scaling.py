"""Collections that scale (SPEC 7): walks by key that see every row once in any
order and filter, at a cost that does not grow with the page number; totals of
filtered collections counted only up to a cap, said in every media type; a
wildcard on card_id served by an index on PostgreSQL.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import psycopg
import pytest
import webtest

from collection_support import read_page
from flexigift.app import create_app
from flexigift.config import Config
from hypermedia import HAL, HAL_XML, HTML, PLAIN, SIREN
from query_count import count_queries

BALANCES = [5, 40, 40, 0, 200, 40, 7, 7, 99, 40, 5, 61, 40, 0, 13, 40, 200, 3, 40, 8, 40, 5, 77]

WALKS = [
    "order=balance%20desc",
    "order=balance&balance:greaterthan=4",
    "order=expiry_date%20desc,balance&card_id=walk*",
    "order=card_id%20desc&balance:lessthan=100",
    "status=active&order=date_created,balance%20desc",
    "",
]


@pytest.fixture
def cards(json_client):
    for number, balance in enumerate(BALANCES):
        body = {"card_id": f"{'walk' if number % 3 else 'other'}-{number:02}", "issuer": "Gap",
                "balance": balance}
        if number % 4 == 0:
            body["expiry_date"] = f"2031-0{1 + number % 3}-01"  # some cards have none: NULLs sort last
        json_client.post("/gift_cards", body)
    return json_client


def _relative(href: str) -> str:
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("query", WALKS)
@pytest.mark.parametrize("media_type", [HAL, PLAIN])
def test_a_walk_by_key_sees_every_row_once_at_the_same_cost_per_page(client, cards, query, media_type):
    everything = read_page(client.get(f"/gift_cards?limit=300&{query}", headers={"Accept": media_type}),
                           "gift_cards")
    expected = [item.text("card_id") for item in everything.items]
    assert expected
    seen, costs, url = [], [], f"/gift_cards?limit=4&{query}"
    while url:
        with count_queries() as counted:
            response = client.get(url, headers={"Accept": media_type})
        page = read_page(response, "gift_cards")
        seen += [item.text("card_id") for item in page.items]
        costs.append(counted.count)
        following = page.paging_links.get("next")
        if following:
            assert "after=" in following  # by key, not by offset alone
        url = following and _relative(following)
    assert seen == expected  # every row once, in the collection's order
    # a page by key costs what the first does (no query of its own for the anchor)
    assert len(set(costs[1:])) <= 1 and all(cost <= costs[0] for cost in costs), costs

    # and back again from the last row, by key
    back, url = [], f"/gift_cards?limit=4&{query}&before=0"
    last = read_page(client.get(f"/gift_cards?limit=1&offset={len(expected) - 1}&{query}",
                                headers={"Accept": media_type}), "gift_cards")
    url = last.paging_links.get("prev")
    back = [item.text("card_id") for item in last.items]
    while url:
        page = read_page(client.get(_relative(url), headers={"Accept": media_type}), "gift_cards")
        back = [item.text("card_id") for item in page.items] + back
        previous = page.paging_links.get("prev")
        url = previous if previous and "before=" in previous else None
    assert back == expected


@pytest.fixture
def capped_client(database_url):
    """An app that counts filtered collections only up to 3."""
    application = create_app(Config(database_url=database_url, auth=False, count_cap=3))
    yield webtest.TestApp(application, extra_environ={"HTTP_HOST": "localhost:3000"})
    db = application.extensions["flexigift_db"]
    if hasattr(db, "close_all"):
        db.close_all()


@pytest.mark.parametrize("media_type", [HAL, HAL_XML, SIREN, PLAIN, HTML])
def test_a_filtered_total_past_the_cap_is_more_than_the_cap_in_every_media_type(capped_client, media_type):
    for number in range(5):
        capped_client.post_json("/gift_cards", {"card_id": f"cap-{number}", "issuer": "Gap", "balance": 10},
                                headers={"Accept": PLAIN})
    filtered = capped_client.get("/gift_cards?card_id=cap*&limit=2", headers={"Accept": media_type})
    assert "X-Total-Count" not in filtered.headers
    assert filtered.headers["X-Total-Count-More-Than"] == "3"
    if media_type != PLAIN:  # plain JSON is the bare array: the header says it
        assert "total_items_more_than" in filtered.text and "3" in filtered.text
    if media_type in (HAL, SIREN):
        page = read_page(filtered, "gift_cards")
        assert page.properties.get("total_items_more_than") == 3
        assert "total_items" not in page.properties
    whole = capped_client.get("/gift_cards?limit=2", headers={"Accept": media_type})
    assert whole.headers["X-Total-Count"] == "5"  # the whole table: the counters, exact
    within = capped_client.get("/gift_cards?card_id=cap-1*", headers={"Accept": media_type})
    assert within.headers["X-Total-Count"] == "1"


def test_rels_document_the_capped_total(client):
    assert "total_items_more_than" in client.get("/rels/gift_cards", headers={"Accept": HAL}).text


class _Statements(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append(record.msg)


@pytest.mark.parametrize("query", ["card_id=gap*", "card_id=GAP-0*&order=card_id", "balance:greaterthan=50"])
def test_filters_read_an_index_on_postgresql(database_url, client, query):
    if not database_url.startswith("postgres"):
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    client.post_json("/gift_cards", {"card_id": "gap-00001", "issuer": "Gap", "balance": 1},
                     headers={"Accept": PLAIN})
    with psycopg.connect(database_url, autocommit=True) as connection:
        columns = [row[0] for row in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'gift_card' "
            "AND column_name NOT IN ('id', 'card_id', 'balance')")]
        listed = ", ".join(f'"{name}"' for name in columns)
        connection.execute(  # 20,000 other cards and a few gap ones, copied from the first
            f'INSERT INTO gift_card (card_id, balance, {listed}) '
            f"SELECT CASE WHEN g % 5000 = 0 THEN 'gap-' || g ELSE 'other-' || g END, g % 40, {listed} "
            "FROM gift_card, generate_series(1, 20000) AS g")
        connection.execute("UPDATE gift_card SET balance = 90 WHERE id % 4000 = 0")
        connection.execute("ANALYZE gift_card")
    logger = logging.getLogger("peewee")
    handler, level = _Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        client.get(f"/gift_cards?limit=5&{query}", headers={"Accept": HAL})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    reads = [(sql, params) for sql, params in handler.seen
             if sql.lstrip().upper().startswith("SELECT") and '"gift_card"' in sql and "row_count" not in sql]
    assert reads
    with psycopg.connect(database_url, autocommit=True) as connection:
        for sql, params in reads:
            plan = "\n".join(row[0] for row in connection.execute(f"EXPLAIN ANALYZE {sql}", params))
            assert "Seq Scan on gift_card" not in plan, plan
            # rows read and thrown away: a scan of the table, or a walk of its primary key, reads them all
            removed = sum(int(line.rsplit(":", 1)[1]) for line in plan.splitlines()
                          if "Rows Removed by Filter" in line)
            assert removed < 100, plan
