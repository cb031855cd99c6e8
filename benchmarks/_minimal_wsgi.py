"""The floor app (``_minimal_app.py``) as a WSGI target for granian: ``_minimal_wsgi:app``,
on the SQLite file named by ``BENCH_DATABASE``."""
from __future__ import annotations

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _minimal_app import create_app  # noqa: E402

app = create_app(os.environ["BENCH_DATABASE"])
