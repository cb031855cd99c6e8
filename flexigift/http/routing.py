"""Binding the URL map to a request, with the work that depends on the host done once per host.

For every request Flask binds the URL map to it (``create_url_adapter``): it reads and
checks the host (``werkzeug.wsgi.get_host``) for ``request.host``, then werkzeug's
``Map.bind_to_environ`` reads and checks it again, looks for a WebSocket upgrade,
and encodes the host name with the IDNA codec, which is Python code. All of it depends
only on a few values of the environ, which a server sees again and again; what it
gives is kept per those values (:data:`_BOUND`), and a request seen again gets the
same adapter made from it and its own path, query and method.

This holds in the configuration the app runs in (no ``SERVER_NAME``, no
``TRUSTED_HOSTS``, no host or subdomain matching); any other asks Flask every time.
``tests/test_routing_binding.py`` checks the adapter and ``request.host`` against
Flask's own for arbitrary environs.

Making the URL map is werkzeug's work too: each rule compiles two URL builders,
functions written as Python syntax trees and compiled, about 1 ms a rule. A builder
depends only on the rule's parts (what :class:`Rule` keys it by); it reaches the
rule's converters through the rule it is bound to. So each is compiled once per
process (:data:`_BUILDERS`), and a second app (a test's, a worker's) reuses it.
"""
from __future__ import annotations

from flask import Flask, Request
from werkzeug import routing as werkzeug_routing
from werkzeug.routing import MapAdapter

#: The environ values the host-dependent part of the binding reads.
_KEYS = ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "HTTP_CONNECTION", "HTTP_UPGRADE")
#: (the values of :data:`_KEYS`) → (request.host, the adapter's server name, subdomain, URL scheme).
_BOUND: dict[tuple, tuple[str, str, str | None, str]] = {}
#: How many hosts are remembered (a client may send any Host: the table never grows past this).
_LIMIT = 64


def plain_routing(app: Flask) -> bool:
    """Whether ``app`` binds its URL map the way :func:`url_adapter` repeats."""
    return (app.config["SERVER_NAME"] is None and app.config["TRUSTED_HOSTS"] is None
            and not app.url_map.host_matching and not app.subdomain_matching)


def url_adapter(app: Flask, request: Request, bind) -> MapAdapter:
    """What ``bind(request)`` (Flask's ``create_url_adapter``) gives, ``request.host`` set as it sets it."""
    environ = request.environ
    key = tuple([environ.get(name) for name in _KEYS])
    bound = _BOUND.get(key)
    if bound is None:
        adapter = bind(request)
        if len(_BOUND) >= _LIMIT:
            _BOUND.clear()
        _BOUND[key] = (request.host, adapter.server_name, adapter.subdomain, adapter.url_scheme)
        return adapter
    request.host, server_name, subdomain, scheme = bound
    script_name, path_info, query = (environ.get("SCRIPT_NAME"), environ.get("PATH_INFO"),
                                     environ.get("QUERY_STRING"))
    return MapAdapter(app.url_map, server_name,
                      "/" if script_name is None else _decoded(script_name), subdomain, scheme,
                      "/" if path_info is None else _decoded(path_info), environ["REQUEST_METHOD"],
                      None if query is None else _decoded(query))


def _decoded(value: str) -> str:
    """A WSGI string (bytes as latin-1) as the text werkzeug makes of it."""
    return value if value.isascii() else value.encode("latin1").decode(errors="replace")


#: (rule, its parts, append_unknown) → werkzeug's unbound builder for them.
_BUILDERS: dict[tuple, object] = {}


class Rule(werkzeug_routing.Rule):
    """werkzeug's rule, its URL builders compiled once per process for each rule's parts.

    A builder is code werkzeug generates from the rule's trace (its static parts and
    the names of its variables) alone, then binds to the rule; the rule's converters
    are read through that binding when a URL is built. A rule with defaults folds them
    into its code as constants, and is compiled afresh every time.
    """

    def _compile_builder(self, append_unknown: bool = True):
        if self.defaults:
            return super()._compile_builder(append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        builder = _BUILDERS.get(key)
        if builder is None:
            builder = _BUILDERS[key] = super()._compile_builder(append_unknown)
        return builder
