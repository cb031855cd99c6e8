"""Flexigift: spend third-party gift cards at a marketplace checkout, over a hypermedia API."""

__version__ = "0.1.0"
