"""Saved segments in the REST API, plus validating, listing and explaining."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from patron.core.api.pagination import CursorPagination
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customers.models import Customer
from patron.segments import services
from patron.segments.filters import SegmentFilterSet
from patron.segments.language import Compiler, SegmentError, segment_queryset
from patron.segments.language import explain as explain_customer
from patron.segments.models import Segment
from patron.segments.selectors import measure


class SegmentSerializer(PatronModelSerializer):
    """A saved query. `count` is how many customers it selects now, for you;
    `error` says why it cannot run (a tag it names was deleted, for example)."""

    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    count = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "query",
            "description",
            "shared",
            "owner",
            "count",
            "error",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]

    def _measure(self, segment):
        if not hasattr(segment, "live_count"):
            request = self.context["request"]
            compiler = self.context.setdefault("compiler", Compiler(request.user))
            measure([segment], request.user, compiler=compiler)
        return segment

    def get_count(self, segment) -> int | None:
        return self._measure(segment).live_count

    def get_error(self, segment) -> str | None:
        return self._measure(segment).query_error or None


class SegmentCustomerSerializer(PatronModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "account_number", "name"]


class QuerySerializer(PatronSerializer):
    query = serializers.CharField(trim_whitespace=True)


class TermResultSerializer(PatronSerializer):
    term = serializers.CharField()
    label = serializers.CharField()
    negated = serializers.BooleanField()
    matched = serializers.BooleanField()
    satisfied = serializers.BooleanField()
    detail = serializers.CharField()


VIEW = ["segments.view_segment"]


class SegmentViewSet(PatronViewSet):
    """Saved segments. Staff may save their own; Read-only users may use shared ones.

    `POST /api/segments/validate/` checks a query and counts it without saving.
    """

    model = Segment
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilterSet
    select_related = ("owner",)
    action_perms = {
        "validate": VIEW,
        "customers": [*VIEW, "customers.view_customer"],
        "explain": [*VIEW, "customers.view_customer"],
    }

    writes = ServiceWrites(
        create=services.segment_create,
        update=services.segment_update,
        delete=services.segment_delete,
        name="segment",
    )

    def _customers(self, segment):
        try:
            return segment_queryset(segment.query, user=self.request.user), None
        except SegmentError as exc:
            return None, Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)

    @extend_schema(responses=SegmentCustomerSerializer(many=True))
    @action(detail=True, methods=["get"])
    def customers(self, request, pk=None):
        """The customers in the segment now, a page at a time (ids and names)."""
        segment = self.get_object()
        customers, error = self._customers(segment)
        if error is not None:
            return error
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            customers.only("id", "account_number", "name"), request, view=self
        )
        return paginator.get_paginated_response(SegmentCustomerSerializer(page, many=True).data)

    @extend_schema(
        responses=inline_serializer(
            "SegmentExplanation",
            {
                "customer": serializers.IntegerField(),
                "matches": serializers.BooleanField(),
                "terms": TermResultSerializer(many=True),
            },
        )
    )
    @action(detail=True, methods=["get"], url_path=r"explain/(?P<customer_id>\d+)")
    def explain(self, request, pk=None, customer_id=None):
        """Term by term, why the customer is in the segment or not."""
        segment = self.get_object()
        customer = Customer.objects.restrict(request.user, "view").filter(pk=customer_id).first()
        if customer is None:
            raise NotFound("Not found.")
        try:
            results = explain_customer(segment.query, customer, user=request.user)
        except SegmentError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        terms = [
            {
                "term": r.term,
                "label": r.label,
                "negated": r.negated,
                "matched": r.matched,
                "satisfied": r.satisfied,
                "detail": str(r),
            }
            for r in results
        ]
        return Response({"customer": customer.pk, "matches": results.matches, "terms": terms})

    @extend_schema(
        request=QuerySerializer,
        responses=inline_serializer("SegmentCount", {"count": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"])
    def validate(self, request):
        """Check a query and count the customers it selects, without saving it.

        A broken query answers 400 with `query` (the message), `position`
        (1-based column) and `suggestion` (a close name, or null).
        """
        body = QuerySerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        try:
            selected = segment_queryset(body.validated_data["query"], user=request.user)
        except SegmentError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response({"count": selected.count()})
