"""Cashback in the REST API.

- `POST /api/groups/{id}/cashback/`: start a cashback run for the group's members
  (frozen now for a dynamic group) as a job; 202 with the job.
- `POST /api/groups/{id}/cashback/preview/`: what that run would do, changing nothing.
- `GET /api/customers/{id}/cashback/`: the balance and the cashback entries, newest first.
- `POST /api/customers/{id}/cashback/`: one adjustment (absolute or relative) with its
  comment.

Both POSTs that start or move cashback take an `Idempotency-Key` header: the same key
and body return the first job; the same key with a different body is refused with 422.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, views
from rest_framework.response import Response

from patron.cashback import services
from patron.cashback.models import Mode
from patron.core.actor import Actor
from patron.core.api.serializers import PatronSerializer
from patron.core.errors import PermissionDenied
from patron.core.money import to_money
from patron.customers.models import Customer
from patron.groups.models import Group
from patron.jobs.api import JobSerializer, accepted
from patron.ledger.api import LedgerEntrySerializer
from patron.ledger.models import Balance, Book, LedgerEntry

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Makes a retry safe: the same key and body return the first response and "
    "move nothing; the same key with a different body is refused (422).",
)
ENTRIES = 50


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(Mode.values) + ")$"})
class ModeField(serializers.CharField):
    """`absolute` or `relative` (a pattern, not an enum: the imports' `mode` enum has the
    name in the schema's components)."""


class CashbackRequestSerializer(PatronSerializer):
    mode = ModeField(help_text="absolute: set each balance; relative: add (negative withdraws).")
    amount = serializers.CharField(
        help_text='Decimal string, exact ("5.00"); relative: negative withdraws.'
    )
    comment = serializers.CharField(help_text="Required; kept with every entry.")


class CashbackPreviewSerializer(PatronSerializer):
    description = serializers.CharField()
    target = serializers.CharField()
    matched = serializers.IntegerField()
    will_change = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    below_zero = serializers.IntegerField()
    left_out = serializers.IntegerField(allow_null=True)
    sample = serializers.ListField(child=serializers.DictField())
    below_zero_sample = serializers.ListField(child=serializers.DictField())


class CustomerCashbackSerializer(PatronSerializer):
    customer = serializers.IntegerField()
    balance = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)
    entry_count = serializers.IntegerField()
    entries = LedgerEntrySerializer(many=True)


def _conflict(exc) -> Response:
    return Response(
        {"detail": exc.message_dict.get("idempotency_key", exc.messages)[0]},
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _body(request) -> dict:
    """The request's mode, amount and comment. `CashbackRequestSerializer` documents them;
    the service checks them (`clean_request`), in its own words, keyed by field."""
    return {key: request.data.get(key) for key in ("mode", "amount", "comment")}


class GroupCashbackView(views.APIView):
    """Start a cashback run for a group: its members (within your groups) get an entry each."""

    permission_classes = [permissions.IsAuthenticated]

    def group(self, request, group_id) -> Group:
        return get_object_or_404(Group.objects.restrict(request.user), pk=group_id)

    @extend_schema(
        operation_id="groups_cashback_create",
        request=CashbackRequestSerializer,
        responses={202: JobSerializer},
        parameters=[OpenApiParameter("group_id", int, OpenApiParameter.PATH), IDEMPOTENCY_HEADER],
    )
    def post(self, request, group_id):
        """Start the run as a job (202; poll `GET /api/jobs/<id>/`). A dynamic group's
        members are frozen when the job is started. Undo: `POST /api/cashback/undo/` with
        the job's `run` (its `result_summary.run`)."""
        actor = Actor.from_request(request)
        if not services.can_run(actor):
            raise PermissionDenied("Your role does not allow you to run cashback.")
        group = self.group(request, group_id)
        data = {**_body(request), "group": group.pk}
        try:
            job = services.cashback_enqueue(
                actor=actor, data=data, idempotency_key=request.headers.get("Idempotency-Key")
            )
        except services.IdempotencyConflict as exc:
            return _conflict(exc)
        return accepted(job)


class GroupCashbackPreviewView(GroupCashbackView):
    @extend_schema(
        operation_id="groups_cashback_preview",
        request=CashbackRequestSerializer,
        responses=CashbackPreviewSerializer,
        parameters=[OpenApiParameter("group_id", int, OpenApiParameter.PATH)],
    )
    def post(self, request, group_id):
        """What the run would do now, changing nothing: counts, a sample before → after, who
        would go below zero, and how many members your groups leave out."""
        actor = Actor.from_request(request)
        if not services.can_run(actor):
            raise PermissionDenied("Your role does not allow you to run cashback.")
        group = self.group(request, group_id)
        params = services.cashback_params(
            actor, {**_body(request), "group": group.pk}, freeze=False
        )
        preview = services.cashback_preview(actor, params)
        return Response(
            {
                "description": preview.description,
                "target": preview.target,
                "matched": preview.matched,
                "will_change": preview.will_change,
                "unchanged": preview.unchanged,
                "below_zero": preview.below_zero,
                "left_out": preview.left_out,
                "sample": [
                    {"customer": c.pk, "name": str(c), "before": before, "after": after}
                    for c, before, after in preview.sample
                ],
                "below_zero_sample": [
                    {"customer": c.pk, "message": message}
                    for c, message in preview.below_zero_sample
                ],
            }
        )


class CustomerCashbackView(views.APIView):
    """A customer's cashback: GET the balance and entries; POST one adjustment."""

    permission_classes = [permissions.IsAuthenticated]

    def customer(self, request, pk) -> Customer:
        # A customer outside the user's groups is not found, never forbidden.
        return get_object_or_404(Customer.objects.restrict(request.user, "view"), pk=pk)

    @extend_schema(
        operation_id="customers_cashback_retrieve",
        responses=CustomerCashbackSerializer,
        parameters=[OpenApiParameter("customer_pk", int, OpenApiParameter.PATH)],
    )
    def get(self, request, customer_pk):
        """The cashback held and the last 50 cashback entries (comment, actor), newest first."""
        customer = self.customer(request, customer_pk)
        if not request.user.has_perm("ledger.view_ledgerentry"):
            raise PermissionDenied("Your role does not allow you to see the ledger.")
        balance = Balance.objects.filter(customer=customer, book=Book.CASHBACK).first()
        entries = (
            LedgerEntry.objects.restrict(request.user)
            .filter(customer=customer, book=Book.CASHBACK)
            .select_related("source_type")
            .order_by("-id")[:ENTRIES]
        )
        context = {"request": request}
        return Response(
            {
                "customer": customer.pk,
                "balance": str(to_money(balance.amount if balance else 0)),
                "entry_count": balance.entry_count if balance else 0,
                "entries": LedgerEntrySerializer(entries, many=True, context=context).data,
            }
        )

    @extend_schema(
        operation_id="customers_cashback_create",
        request=CashbackRequestSerializer,
        responses={201: LedgerEntrySerializer},
        parameters=[
            OpenApiParameter("customer_pk", int, OpenApiParameter.PATH),
            IDEMPOTENCY_HEADER,
        ],
    )
    def post(self, request, customer_pk):
        """One cashback adjustment: `absolute` sets the balance, `relative` adds (negative
        withdraws, never below zero); the comment is required."""
        actor = Actor.from_request(request)
        if not services.can_run(actor):
            raise PermissionDenied("Your role does not allow you to run cashback.")
        customer = self.customer(request, customer_pk)
        if not Customer.objects.restrict(request.user, "change").filter(pk=customer.pk).exists():
            raise Http404
        try:
            entry = services.cashback_adjust(
                actor=actor,
                customer=customer,
                data=_body(request),
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except services.IdempotencyConflict as exc:
            return _conflict(exc)
        return Response(
            LedgerEntrySerializer(entry, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class CashbackUndoSerializer(PatronSerializer):
    run = serializers.IntegerField(
        help_text="The run to undo: a cashback job's `result_summary.run`."
    )


class CashbackUndoView(views.APIView):
    """Undo a cashback run as a job: the reverse entries of its batch."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="cashback_undo_create",
        request=CashbackUndoSerializer,
        responses={202: JobSerializer},
    )
    def post(self, request):
        """Post the reverse of a run's entries (202 with the undo job); members who have
        spent the cashback since are skipped and listed on the job."""
        from patron.jobs.services import job_enqueue

        actor = Actor.from_request(request)
        if not services.can_run(actor):
            raise PermissionDenied("Your role does not allow you to run cashback.")
        body = CashbackUndoSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        job = job_enqueue(actor=actor, kind=services.UNDO_KIND, params=dict(body.validated_data))
        return accepted(job)
