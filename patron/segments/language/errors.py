"""`SegmentError`: a query that cannot be read or run.

In a module of its own so the field table, the parser and the compiler all
import it from below instead of from each other.
"""

from __future__ import annotations


class SegmentError(ValueError):
    """A query that cannot be read or run, with where and what might fix it."""

    def __init__(self, message: str, position: int | None = None, suggestion: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.suggestion = suggestion

    def as_dict(self) -> dict:
        return {"query": [self.message], "position": self.position, "suggestion": self.suggestion}
