"""Fuzzing from the API's own OpenAPI document (schemathesis): every route and
method, with generated valid and invalid parameters and bodies, against the
production set-up (authentication on, an admin's token, the demo data), on both
databases. No answer may be a 5xx; every status, media type and header must be
one the document names; invalid requests are refused. Bounded to a few examples
per operation, so the whole file runs in a minute or two; ``FLEXIGIFT_FUZZ_EXAMPLES``
asks for more (a deeper hunt by hand, outside CI)."""
from __future__ import annotations

import os
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from auth_support import auth_app, close, make_token
from flexigift.app import create_app
from flexigift.config import Config
from flexigift.demo import load_demo_data
from flexigift.openapi import openapi_document

#: Examples per operation and database.
EXAMPLES = int(os.environ.get("FLEXIGIFT_FUZZ_EXAMPLES") or 12)
HOST = "localhost:3000"


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, from an application on a scratch database."""
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(Config(database_url=f"sqlite:///{scratch}/describe.db", auth=False))
        document = openapi_document(app, f"http://{HOST}")
        app.extensions["flexigift_db"].close_all()
    return [(method.upper(), path) for path, operations in document["paths"].items() for method in operations]


@pytest.fixture
def secured_demo(database_url):
    """The production set-up: authentication on, the demo data, and an admin's token."""
    app = auth_app(database_url)
    with app.app_context():
        load_demo_data()
    yield app, make_token(app, "admin", "fuzzer")
    close(app)


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: str(value))
def test_no_operation_fails_or_strays_from_the_document(secured_demo, method, path):
    app, token = secured_demo
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, headers={"Host": HOST})
    operation = schema[path][method]
    headers = {"Host": HOST, "Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def exchange(case):
        case.call_and_validate(headers=headers,
                               # A body the schema allows may still name a card or product that does
                               # not exist, or break a ledger rule: a 4xx is the right answer to it.
                               excluded_checks=[positive_data_acceptance])

    exchange()
