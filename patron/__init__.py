"""Patron: the back office for subscription businesses."""

__version__ = "0.1.0"
