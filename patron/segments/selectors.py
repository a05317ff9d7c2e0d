"""Reading saved segments: their live counts, for the pages and the API alike."""

from __future__ import annotations

from patron.customers.models import Customer
from patron.segments.language import Compiler, SegmentError


def measure(segments, user, *, compiler: Compiler | None = None) -> None:
    """Give each segment `live_count` or `query_error`: one COUNT per segment.

    One compiler (pass it in to share it further) reads the lists of names
    once for all of them. A segment that cannot run gets its message in
    `query_error` and `live_count` None.
    """
    compiler = compiler or Compiler(user)
    base = Customer.objects.restrict(user, "view")
    for segment in segments:
        segment.live_count, segment.query_error = None, ""
        try:
            segment.live_count = compiler.compile(segment.query).apply(base).count()
        except SegmentError as exc:
            segment.query_error = exc.message
