"""The baseline of ``benchmarks/get_user.py``: the least a Flask + peewee app does to
return one user row as JSON.

One route, ``/users/<id>`` → ``User.get_by_id`` → ``jsonify(model_to_dict(...))``.
It reads the same SQLite file as Flexigift, with the same pragmas. Each server
thread keeps its own connection open across requests (peewee's default), the
cheapest way there is, so the baseline is the demanding one.
"""
from __future__ import annotations

import peewee
from flask import Flask, abort, jsonify
from playhouse.shortcuts import model_to_dict

from flexigift.db import LOCK_WAIT_SECONDS, sqlite_pragmas

database = peewee.SqliteDatabase(None)


class User(peewee.Model):
    """The columns of Flexigift's ``user`` table, declared independently."""

    id = peewee.AutoField()
    user_id = peewee.CharField()
    amazon_id = peewee.CharField(null=True)
    name = peewee.CharField(null=True)
    email = peewee.CharField(null=True)
    date_created = peewee.DateTimeField()
    date_modified = peewee.DateTimeField()

    class Meta:
        database = database
        table_name = "user"


def create_app(path: str) -> Flask:
    database.init(path, pragmas=sqlite_pragmas(LOCK_WAIT_SECONDS["sqlite"]))
    app = Flask(__name__)

    @app.route("/users/<int:id>")
    def get_user(id: int):
        try:
            user = User.get_by_id(id)
        except User.DoesNotExist:
            abort(404)
        return jsonify(model_to_dict(user))

    return app
