"""Query expressions Patron needs beyond Django's own."""

from __future__ import annotations

from django.db.models import BooleanField, Func


class InList(Func):
    """`expression IN (subquery)`, which PostgreSQL runs as `= ANY(ARRAY(subquery))`.

    Use it where the subquery finds few rows through an index of its own (a
    search) and the outer query is ordered and limited (a page of the list).
    Given a plain `IN`, PostgreSQL may walk the outer table in page order and
    test each row against the subquery, reading a million rows to find two;
    given an array, it computes the matches first and fetches only those.
    """

    output_field = BooleanField()
    conditional = True
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        (value, value_params), (subquery, subquery_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return f"{value} IN {subquery}", (*value_params, *subquery_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        (value, value_params), (subquery, subquery_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return f"{value} = ANY(ARRAY{subquery})", (*value_params, *subquery_params)
