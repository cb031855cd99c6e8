"""Helpers shared by the HTTP API tests: a client per media type, error bodies read
in either shape, and a snapshot of every table to prove a failed request wrote nothing.
"""
from __future__ import annotations

from typing import Any

import pytest
import webtest

from flexigift.models import MODELS

PLAIN = "application/json"
HAL = "application/hal+json"
#: The two JSON formats a client can ask for; tests where the format matters run in both.
JSON_FORMATS = [PLAIN, HAL]

#: Ids no row can ever have: past PostgreSQL's 4-byte serial, past SQLite's 8-byte
#: integer, and past anything a 64-bit integer can hold.
HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.fixture(params=JSON_FORMATS, ids=["plain", "hal"])
def api(request, json_client):
    """A JSON client that asks for plain JSON or for HAL+JSON."""
    return type(json_client)(json_client.client, accept=request.param)


def errors_of(response) -> list[dict[str, Any]]:
    """The error entries of an error body, in the HAL or the plain JSON shape.

    Checks the shape on the way: ``total`` counts the entries, and every entry
    has a ``logref`` and a ``message``.
    """
    body = response.json
    if response.content_type == HAL:
        assert set(body) >= {"total", "_embedded"}, body
        entries = body["_embedded"]["fg:errors"]
    else:
        assert response.content_type == PLAIN, response.content_type
        assert set(body) >= {"total", "errors"}, body
        entries = body["errors"]
    assert body["total"] == len(entries) >= 1, body
    for entry in entries:
        assert isinstance(entry["logref"], str) and entry["logref"], entry
        assert isinstance(entry["message"], str) and entry["message"], entry
    return entries


def fields_at_fault(response) -> list[str]:
    """The ``field`` of each error entry (``None`` where an entry names none)."""
    return [entry.get("field") for entry in errors_of(response)]


def messages(response) -> str:
    """Every error message of a response, joined, for ``in`` checks."""
    return " | ".join(entry["message"] for entry in errors_of(response))


def items_of(response, rel: str) -> list[dict[str, Any]]:
    """The items of a collection response: the array (plain JSON) or ``_embedded[rel]`` (HAL)."""
    if response.content_type == HAL:
        return response.json["_embedded"][rel]
    assert response.content_type == PLAIN, response.content_type
    assert isinstance(response.json, list), response.json
    return response.json


def database_snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in id order: equal snapshots mean nothing was written."""
    db = app.extensions["flexigift_db"]
    with db.connection_context():
        return {
            model.__name__: list(model.select().order_by(model.id).tuples())
            for model in MODELS
        }


def row_counts(app) -> dict[str, int]:
    """How many rows each table holds."""
    return {name: len(rows) for name, rows in database_snapshot(app).items()}


class JsonClient:
    """Sends and accepts plain JSON, as the tutorials' curl commands do."""

    ACCEPT = "application/json"

    def __init__(self, client: webtest.TestApp, accept: str | None = None):
        self.client = client
        self.accept = accept or self.ACCEPT

    def _headers(self, headers=None):
        merged = {"Accept": self.accept}
        merged.update(headers or {})
        return merged

    def get(self, url, status=200, headers=None):
        return self.client.get(url, headers=self._headers(headers), status=status)

    def delete(self, url, status=204, headers=None):
        return self.client.delete(url, headers=self._headers(headers), status=status)

    def post(self, url, body, status=201, headers=None):
        return self.client.post_json(url, body, headers=self._headers(headers), status=status)

    def put(self, url, body, status=200, headers=None):
        return self.client.put_json(url, body, headers=self._headers(headers), status=status)

    def patch(self, url, body, status=200, headers=None):
        return self.client.patch_json(url, body, headers=self._headers(headers), status=status)

    def raw(self, method, url, body: bytes, content_type="application/json", status="*", headers=None):
        return self.client.request(url, method=method, body=body,
                                   headers=self._headers({"Content-Type": content_type, **(headers or {})}),
                                   status=status, expect_errors=True)
