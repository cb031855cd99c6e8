"""The URL map bound to a request as Flask binds it, whatever the environ: the adapter
Flexigift makes from what it kept of an earlier request with the same host
(:mod:`flexigift.http.routing`) routes, builds and redirects exactly as Flask's own,
and sets the same ``request.host``, or fails the same way. And the URL builders each
rule shares with every other rule of its shape in the process build what werkzeug's
own build."""
from __future__ import annotations

import pytest
from flask import Flask, Request
from werkzeug import routing as werkzeug_routing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flexigift.app import create_app
from flexigift.config import Config
from flexigift.http import routing

ADAPTER_FIELDS = ("server_name", "script_name", "subdomain", "url_scheme", "path_info",
                  "default_method", "query_args", "websocket")
#: WSGI strings: bytes as latin-1.
LATIN1 = st.characters(max_codepoint=0xFF, blacklist_categories=("Cs",))
HOSTS = st.one_of(
    st.sampled_from(["localhost:3000", "LOCALHOST:3000", "example.com", "example.com:80", "example.com:443",
                     "[::1]:3000", "xn--bcher-kva.example", "b\xfccher.example", "a" * 64 + ".example",
                     "", " ", "host:0", "host:99999", "bad host", "127.0.0.1", "ex.com.:8080"]),
    st.text(LATIN1, max_size=20),
)
ENVIRONS = st.fixed_dictionaries(
    {"REQUEST_METHOD": st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "DELETE"]),
     "wsgi.url_scheme": st.sampled_from(["http", "https"])},
    optional={
        "HTTP_HOST": HOSTS,
        "SERVER_NAME": st.sampled_from(["localhost", "127.0.0.1", "::1", "example.com"]),
        "SERVER_PORT": st.sampled_from(["80", "443", "3000"]),
        "SCRIPT_NAME": st.sampled_from(["", "/api", "/caf\xc3\xa9"]),
        "PATH_INFO": st.one_of(st.sampled_from(["/", "/users/5", "/gift_cards", "/users/5/"]),
                               st.text(LATIN1, max_size=12).map(lambda text: "/" + text)),
        "QUERY_STRING": st.text(LATIN1, max_size=12),
        "HTTP_CONNECTION": st.sampled_from(["keep-alive", "Upgrade", "keep-alive, upgrade"]),
        "HTTP_UPGRADE": st.sampled_from(["websocket", "h2c"]),
    },
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = tmp_path_factory.mktemp("routing") / "flexigift.db"
    application = create_app(Config(database_url=f"sqlite:///{path}", auth=False))
    yield application
    application.extensions["flexigift_db"].close_all()


def _bound(bind, environ: dict):
    """(request.host, the adapter's fields, its match) or the error binding raised."""
    request = Request(dict(environ))
    try:
        adapter = bind(request)
    except Exception as error:  # noqa: BLE001 - compared with what Flask raises
        return type(error)
    try:
        matched = adapter.match()
    except Exception as error:  # noqa: BLE001 - a 404, 405 or redirect: compared as such
        matched = (type(error), getattr(error, "new_url", None))
    return request.host, {name: getattr(adapter, name) for name in ADAPTER_FIELDS}, matched


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(environ=ENVIRONS, path=st.sampled_from(["/users/7", "/gift_cards", "/nowhere"]))
def test_the_binding_is_flasks_for_the_first_request_and_for_one_seen_again(app, environ, path):
    flasks = _bound(lambda request: Flask.create_url_adapter(app, request), environ)
    assert _bound(app.create_url_adapter, environ) == flasks  # the first of this host, or not
    assert _bound(app.create_url_adapter, environ) == flasks  # seen again: made from what was kept
    other = {**environ, "PATH_INFO": path, "QUERY_STRING": "limit=1"}  # same host, another resource
    assert _bound(app.create_url_adapter, other) == _bound(
        lambda request: Flask.create_url_adapter(app, request), other)


def test_hosts_kept_are_bounded(app):
    for number in range(routing._LIMIT * 3):
        environ = {"REQUEST_METHOD": "GET", "wsgi.url_scheme": "http", "HTTP_HOST": f"h{number}.example",
                   "PATH_INFO": "/users/1"}
        assert _bound(app.create_url_adapter, environ)[0] == f"h{number}.example"
        assert len(routing._BOUND) <= routing._LIMIT


def test_an_app_configured_otherwise_binds_as_flask_does(app):
    environ = {"REQUEST_METHOD": "GET", "wsgi.url_scheme": "http", "HTTP_HOST": "api.example.com",
               "PATH_INFO": "/users/1"}
    app.config["SERVER_NAME"] = "example.com"
    try:
        assert not routing.plain_routing(app)
        assert _bound(app.create_url_adapter, environ) == _bound(
            lambda request: Flask.create_url_adapter(app, request), environ)
    finally:
        app.config["SERVER_NAME"] = None
    assert routing.plain_routing(app)


# -- URL builders compiled once per process ---------------------------------------
def test_every_rules_builders_are_the_code_werkzeug_compiles_for_it(app):
    """A second app (as each test and each worker makes) reuses the first one's builders:
    the same code werkzeug would compile, bound to its own rules and their converters."""
    second = create_app(Config(database_url=app.config["FLEXIGIFT"].database_url, auth=False))
    try:
        rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
        for rule in second.url_map.iter_rules():
            for builder, append_unknown in ((rule._build, False), (rule._build_unknown, True)):
                assert builder.__self__ is rule
                assert builder.__func__.__code__ == werkzeug_routing.Rule._compile_builder(
                    rule, append_unknown).__code__, rule.rule
            if not rule.defaults:
                assert rule._build.__func__ is rules[rule.rule]._build.__func__, rule.rule
    finally:
        second.extensions["flexigift_db"].close_all()


SEGMENTS = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x17F, blacklist_characters="<>/:"),
            min_size=1, max_size=6),
    st.sampled_from(["<int:a>", "<b>", "<path:c>", "<uuid:d>", "<float:e>", "<any(x, y):f>"]),
)
VALUES = st.fixed_dictionaries({}, optional={
    "a": st.integers(-5, 10**6), "b": st.text(max_size=5), "c": st.text(max_size=8),
    "d": st.uuids(), "e": st.floats(allow_nan=False, allow_infinity=False), "f": st.sampled_from(["x", "y", "z"]),
    "q": st.text(max_size=4), "many": st.lists(st.text(max_size=3), max_size=3),
})


def _built(rule_class, path: str, values: dict, method: str | None):
    url_map = werkzeug_routing.Map([rule_class(path, endpoint="here")])
    adapter = url_map.bind("example.com", "/api")
    try:
        return adapter.build("here", values, method=method), adapter.build("here", values, force_external=True)
    except Exception as error:  # noqa: BLE001 - compared with what werkzeug raises
        return type(error)


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(SEGMENTS, min_size=1, max_size=4, unique=True), values=VALUES,
       method=st.sampled_from([None, "GET"]))
def test_a_rule_builds_the_urls_werkzeugs_own_builds_first_time_and_shared(segments, values, method):
    path = "/" + "/".join(segments)
    try:
        werkzeug_routing.Rule(path, endpoint="here")
        werkzeug_routing.Map([werkzeug_routing.Rule(path, endpoint="here")])
    except (ValueError, LookupError, TypeError):
        return  # a rule werkzeug refuses; not a URL to build
    werkzeugs = _built(werkzeug_routing.Rule, path, values, method)
    assert _built(routing.Rule, path, values, method) == werkzeugs  # compiled, or reused
    assert _built(routing.Rule, path, values, method) == werkzeugs  # reused by another map
