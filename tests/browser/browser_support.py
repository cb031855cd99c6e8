"""A real ``flexigift serve`` for the browser tests, and screenshots of what they see."""
from __future__ import annotations

import os
import pathlib

from servers import REPOSITORY, LiveServer, flexigift_serve  # noqa: F401 - shared with other tests

OUTPUT = pathlib.Path(os.environ.get("FLEXIGIFT_TEST_OUTPUT", REPOSITORY / "test-output"))


def screenshot(page, name: str) -> pathlib.Path:
    """Save a screenshot of ``page`` as ``test-output/<name>.png``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
