"""``python -m flexigift``: the ``flexigift`` command."""
from .cli import main

main(prog_name="flexigift")
