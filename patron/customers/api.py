"""Customers and contacts in the REST API, over the same services and FilterSet."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from patron.classes.models import CustomerClass
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet, ServiceWrites
from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import (
    Contact,
    Customer,
    GroupMembership,
    ScheduledMembership,
    StatusChange,
)
from patron.departments.models import Department
from patron.groups import services as group_services
from patron.groups.models import Group
from patron.ledger.api import BalanceField  # hinge: the ledger's balance on the customer
from patron.statuses.models import Status
from patron.tags.models import Tag

CONTACT_FIELDS = [
    "name",
    "first_name",
    "last_name",
    "title",
    "email",
    "country",
    "phone",
    "mobile",
    "fax",
    "phone_unverified",
    "mobile_unverified",
    "fax_unverified",
    "is_primary",
    "email_opt_out",
    "sms_opt_out",
    "portal_username",
]


# The name is made from first and last name when either is given (see Contact).
CONTACT_EXTRA_KWARGS = {"name": {"required": False, "allow_blank": True}}


def _check_contact_named(attrs, instance=None):
    names = ("name", "first_name", "last_name")
    current = {f: getattr(instance, f, "") for f in names} if instance is not None else {}
    merged = {**current, **{f: attrs[f] for f in names if f in attrs}}
    if not any((merged.get(f) or "").strip() for f in names):
        raise serializers.ValidationError(
            {"name": "Give the contact a name, or a first and last name."}
        )


class ContactSerializer(PatronModelSerializer):
    """A contact. Numbers are read in `country` (empty: the customer's country, else
    the home country) and returned in E.164; with `phone_unverified` (`mobile_…`,
    `fax_…`) true, a number that is not valid is kept exactly as written."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())

    class Meta:
        model = Contact
        fields = ["id", "customer", *CONTACT_FIELDS, "version", "created", "modified"]
        read_only_fields = ["version", "created", "modified"]
        extra_kwargs = CONTACT_EXTRA_KWARGS

    def validate(self, attrs):
        _check_contact_named(attrs, self.instance)
        return super().validate(attrs)

    restrict_actions = {"customer": "change"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["customer"].read_only = True


class NestedContactSerializer(PatronModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", *CONTACT_FIELDS]
        read_only_fields = ["id"]
        extra_kwargs = CONTACT_EXTRA_KWARGS

    def validate(self, attrs):
        _check_contact_named(attrs)
        return super().validate(attrs)


class CustomerSerializer(PatronModelSerializer):
    """A customer with its tags, groups and contacts.

    `tags` and `groups` are lists of ids and replace the current sets on
    update. `status` is set on creation; change it later with `POST .../status/`.
    Countries are ISO 3166-1 codes (an empty service country is the home
    country), regions ISO 3166-2 codes where the country has them, and the tax
    number is checked for its country; `name` is made from `first_name` and
    `last_name` for a person and from `company_name` for a company.
    """

    status = serializers.PrimaryKeyRelatedField(queryset=Status.objects.all())
    customer_class = serializers.PrimaryKeyRelatedField(
        queryset=CustomerClass.objects.all(), allow_null=True, required=False
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    referred_by = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), allow_null=True, required=False
    )
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    groups = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), many=True, required=False
    )
    contacts = NestedContactSerializer(many=True, required=False)
    status_name = serializers.CharField(source="status.name", read_only=True)
    account_number = serializers.CharField(required=False, max_length=30)
    balance = BalanceField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "account_number",
            "name",
            "kind",
            "first_name",
            "last_name",
            "company_name",
            "tax_number",
            "external_reference",
            "status",
            "status_name",
            "customer_class",
            "department",
            "referred_by",
            "service_street",
            "service_city",
            "service_postcode",
            "service_region",
            "service_country",
            "latitude",
            "longitude",
            "billing_same_as_service",
            "billing_street",
            "billing_city",
            "billing_postcode",
            "billing_region",
            "billing_country",
            "billing_day",
            "notes",
            "archived",
            "archived_at",
            "balance",
            "tags",
            "groups",
            "contacts",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["archived", "archived_at", "version", "created", "modified"]
        extra_kwargs = {
            "name": {"required": False, "allow_blank": True},
            # Unique when set: checked by the service with a message that does not tell a
            # restricted user about a customer they cannot see.
            "external_reference": {"validators": []},
        }

    def validate(self, attrs):
        names = ("name", "first_name", "last_name", "company_name")
        current = {f: getattr(self.instance, f, "") for f in names} if self.instance else {}
        merged = {**current, **{f: attrs[f] for f in names if f in attrs}}
        if not any((merged.get(f) or "").strip() for f in names):
            raise serializers.ValidationError(
                {"name": "Give the customer a name, or a first and last name."}
            )
        return super().validate(attrs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None:
            # Status has its own action with reason and date; contacts their own endpoint.
            self.fields["status"].read_only = True
            self.fields["contacts"].read_only = True
            self.fields["account_number"].read_only = True


class StatusChangeSerializer(PatronModelSerializer):
    from_status = serializers.StringRelatedField()
    to_status = serializers.StringRelatedField()

    class Meta:
        model = StatusChange
        fields = ["id", "from_status", "to_status", "reason", "effective_date", "changed_by_label"]


class StatusChangeRequestSerializer(PatronSerializer):
    status = serializers.PrimaryKeyRelatedField(queryset=Status.objects.all())
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)


class MembershipSerializer(PatronModelSerializer):
    """A group the customer is in now; `valid_from` is the day it started,
    `valid_until` its last day (null: no end)."""

    group_name = serializers.CharField(source="group.name", read_only=True)
    valid_from = serializers.SerializerMethodField()

    class Meta:
        model = GroupMembership
        fields = ["group", "group_name", "group_set", "valid_from", "valid_until"]
        read_only_fields = fields

    def get_valid_from(self, obj) -> str:
        return timezone.localdate(obj.created).isoformat()


class ScheduledMembershipSerializer(PatronModelSerializer):
    """A membership that starts on `valid_from`; `failure` says why the scheduler
    could not start it (empty while it waits). `group` is null if the group was deleted."""

    class Meta:
        model = ScheduledMembership
        fields = [
            "id",
            "group",
            "group_name",
            "valid_from",
            "valid_until",
            "failure",
            "created_by_label",
            "created",
        ]
        read_only_fields = fields


class CustomerMembershipsSerializer(PatronSerializer):
    memberships = MembershipSerializer(many=True)
    scheduled = ScheduledMembershipSerializer(many=True)


class MembershipAddSerializer(PatronSerializer):
    """Add the customer to `group`: now (no `valid_from`, or today or earlier) or
    from a later day (scheduled), optionally until `valid_until`. With `move`, a
    group of a single-choice set replaces the one the customer holds there."""

    group = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all())
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    move = serializers.BooleanField(
        required=False,
        default=False,
        help_text="In a single-choice set, move the customer from the group held there "
        "(one change, one event) instead of refusing. Only for a membership that starts now.",
    )

    def validate(self, attrs):
        start, end = attrs.get("valid_from"), attrs.get("valid_until")
        if start and end and end < start:
            raise serializers.ValidationError(
                {
                    "valid_until": f"The last day ({end.isoformat()}) cannot be before the "
                    f"first day ({start.isoformat()})."
                }
            )
        return attrs


class MembershipValiditySerializer(PatronSerializer):
    valid_until = serializers.DateField(allow_null=True)


class ArchiveRequestSerializer(PatronSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerViewSet(PatronViewSet):
    """Customer accounts. Filters: `q`, `tag`, `group` (includes subgroups),
    `status`, `customer_class`, `department`, `kind`, `city`, `archived`."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    select_related = ("status",)
    prefetch_related = ("tags", "groups", "contacts", "balances")
    action_perms = {
        "status": ["customers.change_customer"],
        "archive": ["customers.change_customer"],
        "restore": ["customers.change_customer"],
        "status_history": ["customers.view_customer"],
        "memberships": ["customers.view_customer"],
        "membership": ["customers.change_customer"],
        "scheduled_membership": ["customers.change_customer"],
    }

    def get_queryset(self):
        if self.action in {"status", "archive", "restore"}:
            return Customer.objects.restrict(self.request.user, "change").select_related("status")
        return super().get_queryset()

    def perform_service_create(self, data):
        data = dict(data)
        tags = data.pop("tags", [])
        groups = data.pop("groups", [])
        contacts = data.pop("contacts", [])
        return services.customer_create(
            actor=self.actor, data=data, tags=tags, groups=groups, contacts=contacts
        )

    def perform_service_update(self, instance, data, expected_version):
        data = dict(data)
        tags = data.pop("tags", None)
        groups = data.pop("groups", None)
        with transaction.atomic():
            customer = instance
            if data:
                customer = services.customer_update(
                    actor=self.actor,
                    customer=instance,
                    data=data,
                    expected_version=expected_version,
                )
                expected_version = None
            if tags is not None:
                customer = services.customer_tags_set(
                    actor=self.actor,
                    customer=customer,
                    tags=tags,
                    expected_version=expected_version,
                )
                expected_version = None
            if groups is not None:
                customer = services.customer_groups_set(
                    actor=self.actor,
                    customer=customer,
                    groups=groups,
                    expected_version=expected_version,
                )
        return customer

    @extend_schema(request=StatusChangeRequestSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Change the status, with the reason and effective date the status requires."""
        customer = self.get_object()
        expected = self.expected_version(customer)
        body = StatusChangeRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        customer = services.customer_status_change(
            actor=self.actor, customer=customer, expected_version=expected, **body.validated_data
        )
        return self._object_response(customer)

    @extend_schema(request=ArchiveRequestSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def archive(self, request, pk=None):
        """Archive the customer; a stale `If-Match` gets 412."""
        customer = self.locked_for_write(self.get_object())
        body = ArchiveRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        customer = services.customer_archive(
            actor=self.actor, customer=customer, reason=body.validated_data["reason"]
        )
        return self._object_response(customer)

    @extend_schema(request=ArchiveRequestSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def restore(self, request, pk=None):
        """Bring an archived customer back; a stale `If-Match` gets 412."""
        customer = self.locked_for_write(self.get_object())
        body = ArchiveRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        customer = services.customer_restore(
            actor=self.actor, customer=customer, reason=body.validated_data["reason"]
        )
        return self._object_response(customer)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="status-history")
    def status_history(self, request, pk=None):
        customer = self.get_object()
        changes = customer.status_changes.select_related("from_status", "to_status")
        return Response(StatusChangeSerializer(changes, many=True).data)

    def _memberships_response(self, customer, status=http_status.HTTP_200_OK):
        memberships = customer.memberships.select_related("group").order_by(
            "group__group_set__position", "group__path"
        )
        data = CustomerMembershipsSerializer(
            {"memberships": memberships, "scheduled": customer.scheduled_memberships.all()}
        ).data
        return Response(data, status=status)

    def _require_change(self):
        if not self.request.user.has_perm("customers.change_customer"):
            raise PermissionDenied("Your role does not allow you to change customers.")

    @extend_schema(request=MembershipAddSerializer, responses=CustomerMembershipsSerializer)
    @action(detail=True, methods=["get", "post"])
    @transaction.atomic
    def memberships(self, request, pk=None):
        """The customer's groups with their validity (`memberships`) and the memberships
        that start on a later day (`scheduled`). POST `{"group", "valid_from",
        "valid_until"}` adds one (a future `valid_from` schedules it) and answers 201
        with the same lists; `"move": true` replaces the customer's group of a
        single-choice set instead of refusing."""
        customer = self.get_object()
        if request.method == "GET":
            return self._memberships_response(customer)
        self._require_change()
        customer = self.locked_for_write(customer)
        body = MembershipAddSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        try:
            if data.pop("move"):
                group_services.customer_group_move(actor=self.actor, customer=customer, **data)
            else:
                services.customer_group_add(actor=self.actor, customer=customer, **data)
        except ValidationError as exc:
            # The services key group rules by "groups"; this endpoint's field is "group".
            if hasattr(exc, "error_dict"):
                raise ValidationError(
                    {("group" if k == "groups" else k): v for k, v in exc.message_dict.items()}
                ) from exc
            raise
        return self._memberships_response(customer, status=http_status.HTTP_201_CREATED)

    @extend_schema(
        request=MembershipValiditySerializer,
        responses={200: MembershipSerializer, 204: None},
        parameters=[OpenApiParameter("group_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"memberships/(?P<group_id>\d+)")
    @transaction.atomic
    def membership(self, request, pk=None, group_id=None):
        """PATCH `{"valid_until": "2026-12-31"}` (or null for no end) changes the last day
        of the customer's membership of the group; DELETE removes the customer from it."""
        customer = self.locked_for_write(self.get_object())
        group = Group.objects.restrict(request.user).filter(pk=group_id).first()
        if group is None or not customer.memberships.filter(group=group).exists():
            raise NotFound("Not found.")
        if request.method == "DELETE":
            services.customer_group_remove(actor=self.actor, customer=customer, group=group)
            return Response(status=http_status.HTTP_204_NO_CONTENT)
        body = MembershipValiditySerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        membership = services.customer_group_validity_set(
            actor=self.actor,
            customer=customer,
            group=group,
            valid_until=body.validated_data["valid_until"],
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("scheduled_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"scheduled-memberships/(?P<scheduled_id>\d+)",
    )
    @transaction.atomic
    def scheduled_membership(self, request, pk=None, scheduled_id=None):
        """Cancel a membership that has not started (or could not start)."""
        customer = self.locked_for_write(self.get_object())
        scheduled = customer.scheduled_memberships.filter(pk=scheduled_id).first()
        if scheduled is None:
            raise NotFound("Not found.")
        services.customer_group_schedule_cancel(actor=self.actor, scheduled=scheduled)
        return Response(status=http_status.HTTP_204_NO_CONTENT)

    def _object_response(self, customer):
        customer = self.get_queryset().get(pk=customer.pk)
        response = Response(self.get_serializer(customer).data)
        response["ETag"] = customer.etag
        return response

    def destroy(self, request, *args, **kwargs):
        from rest_framework.exceptions import MethodNotAllowed

        raise MethodNotAllowed("DELETE", detail="Customers are archived, never deleted.")


class ContactViewSet(PatronViewSet):
    """Contacts; phone numbers are returned in E.164. Filter with `?customer=<id>`."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_fields = ["customer", "is_primary"]

    writes = ServiceWrites(
        create=services.contact_create,
        update=services.contact_update,
        delete=services.contact_delete,
        name="contact",
        parent="customer",
    )
