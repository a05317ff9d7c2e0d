"""Patron's own job types; importing this package registers them."""

from patron.jobs.types import customers_bulk, customers_bulk_tag  # noqa: F401
