"""This request, its globals and its application, reached without Flask's proxies.

Flask's ``request``, ``g`` and ``current_app`` are proxies: every use looks the
object up again through two Python calls. The hot path reaches them through the
context variables Flask keeps them in (``flask.globals._cv_request`` and
``_cv_app``, which the proxies themselves read), one C call each.
"""
from __future__ import annotations

from flask import Flask, Request
from flask.ctx import _AppCtxGlobals
from flask.globals import _cv_app, _cv_request


def current_request() -> Request:
    return _cv_request.get().request


def current_g() -> _AppCtxGlobals:
    return _cv_app.get().g


def current_app() -> Flask:
    return _cv_app.get().app
