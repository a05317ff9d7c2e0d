"""Tickets in the REST API, with comment, close and reopen actions."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.customers.models import Customer
from patron.departments.models import Department
from patron.departments.routing import (
    CUSTOMER_NOT_VISIBLE,
    DEPARTMENT_NOT_VISIBLE,
    visible_departments,
)
from patron.tickets import services
from patron.tickets.filters import TicketFilterSet
from patron.tickets.forms import people
from patron.tickets.models import Ticket, TicketComment

NO_DELETE = ["get", "post", "put", "patch", "head", "options"]


class RoutedSerializerMixin:
    """Customer and department choices limited to what the user may see.

    A department the user may not see gets the same answer as one that does
    not exist, so the API never reveals it. The customer is fixed once set.
    """

    person_field = "assignee"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["department"].queryset = visible_departments(request.user)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["customer"].read_only = True


def customer_field():
    return serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), error_messages={"does_not_exist": CUSTOMER_NOT_VISIBLE}
    )


def department_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.none(),
        error_messages={"does_not_exist": DEPARTMENT_NOT_VISIBLE},
        **kwargs,
    )


def person_field():
    return serializers.PrimaryKeyRelatedField(queryset=people(), allow_null=True, required=False)


class TicketCommentSerializer(PatronModelSerializer):
    class Meta:
        model = TicketComment
        fields = ["id", "author_label", "body", "created"]
        read_only_fields = fields


class TicketCommentRequestSerializer(PatronSerializer):
    body = serializers.CharField()


class TicketSerializer(RoutedSerializerMixin, PatronModelSerializer):
    """A ticket and its comments. Closing through `status` records who closed it and when."""

    customer = customer_field()
    department = department_field()
    assignee = person_field()
    department_name = serializers.CharField(source="department.name", read_only=True)
    comments = TicketCommentSerializer(many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "department",
            "department_name",
            "assignee",
            "subject",
            "description",
            "priority",
            "status",
            "opened_by_label",
            "closed_at",
            "closed_by_label",
            "comments",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = [
            "opened_by_label",
            "closed_at",
            "closed_by_label",
            "version",
            "created",
            "modified",
        ]


class TicketViewSet(PatronViewSet):
    """Tickets. Filters: `customer`, `department`, `status`, `assignee`, `priority`, `q`.

    Tickets are closed, never deleted: `POST .../close/` and `.../reopen/`.
    """

    model = Ticket
    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    http_method_names = NO_DELETE
    select_related = ("department",)
    prefetch_related = ("comments",)
    action_perms = {
        "comments": ["tickets.view_ticket", "tickets.add_ticketcomment"],
        "close": ["tickets.change_ticket"],
        "reopen": ["tickets.change_ticket"],
    }

    def get_queryset(self):
        if self.action in {"close", "reopen"}:
            return Ticket.objects.restrict(self.request.user, "change").select_related("department")
        return super().get_queryset()

    writes = ServiceWrites(
        create=services.ticket_create,
        update=services.ticket_update,
        name="ticket",
        parent="customer",
    )

    @extend_schema(request=TicketCommentRequestSerializer, responses=TicketCommentSerializer)
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def comments(self, request, pk=None):
        """Add a comment to the ticket (a stale `If-Match` gets 412)."""
        ticket = self.locked_for_write(self.get_object())
        body = TicketCommentRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        comment = services.ticket_comment(
            actor=self.actor, ticket=ticket, body=body.validated_data["body"]
        )
        return Response(TicketCommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the ticket (it leaves the overview and appears in the closed-ticket report)."""
        ticket = self.get_object()
        ticket = services.ticket_close(
            actor=self.actor, ticket=ticket, expected_version=self.expected_version(ticket)
        )
        return self._object_response(ticket)

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Open a closed ticket again."""
        ticket = self.get_object()
        ticket = services.ticket_reopen(
            actor=self.actor, ticket=ticket, expected_version=self.expected_version(ticket)
        )
        return self._object_response(ticket)

    def _object_response(self, ticket):
        ticket = self.get_queryset().get(pk=ticket.pk)
        response = Response(self.get_serializer(ticket).data)
        response["ETag"] = ticket.etag
        return response
