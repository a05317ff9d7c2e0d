"""Cursor pagination: fast at any depth."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pages stay fast at any depth; `?page_size=` up to 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
