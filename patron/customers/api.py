"""Customers and contacts in the REST API, over the same services and FilterSet."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.classes.models import CustomerClass
from patron.core.api.viewsets import PatronViewSet
from patron.customers import services
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Contact, Customer, StatusChange
from patron.departments.models import Department
from patron.groups.models import Group
from patron.statuses.models import Status
from patron.tags.models import Tag

CONTACT_FIELDS = [
    "name",
    "title",
    "email",
    "phone",
    "mobile",
    "is_primary",
    "email_opt_out",
    "sms_opt_out",
    "portal_username",
]


class ContactSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())

    class Meta:
        model = Contact
        fields = ["id", "customer", *CONTACT_FIELDS, "version", "created", "modified"]
        read_only_fields = ["version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["customer"].queryset = Customer.objects.restrict(request.user, "change")
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["customer"].read_only = True


class NestedContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", *CONTACT_FIELDS]
        read_only_fields = ["id"]


class CustomerSerializer(serializers.ModelSerializer):
    """A customer with its tags, groups and contacts.

    `tags` and `groups` are lists of ids and replace the current sets on
    update. `status` is set on creation; change it later with `POST .../status/`.
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

    class Meta:
        model = Customer
        fields = [
            "id",
            "account_number",
            "name",
            "kind",
            "status",
            "status_name",
            "customer_class",
            "department",
            "referred_by",
            "service_street",
            "service_city",
            "service_postcode",
            "service_country",
            "latitude",
            "longitude",
            "billing_same_as_service",
            "billing_street",
            "billing_city",
            "billing_postcode",
            "billing_country",
            "notes",
            "archived",
            "archived_at",
            "tags",
            "groups",
            "contacts",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["archived", "archived_at", "version", "created", "modified"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            self.fields["tags"].child_relation.queryset = Tag.objects.restrict(user)
            self.fields["groups"].child_relation.queryset = Group.objects.restrict(user)
            self.fields["referred_by"].queryset = Customer.objects.restrict(user)
            self.fields["status"].queryset = Status.objects.restrict(user)
        if self.instance is not None:
            # Status has its own action with reason and date; contacts their own endpoint.
            self.fields["status"].read_only = True
            self.fields["contacts"].read_only = True
            self.fields["account_number"].read_only = True


class StatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.StringRelatedField()
    to_status = serializers.StringRelatedField()

    class Meta:
        model = StatusChange
        fields = ["id", "from_status", "to_status", "reason", "effective_date", "changed_by_label"]


class StatusChangeRequestSerializer(serializers.Serializer):
    status = serializers.PrimaryKeyRelatedField(queryset=Status.objects.all())
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)


class ArchiveRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerViewSet(PatronViewSet):
    """Customer accounts. Filters: `q`, `tag`, `group` (includes subgroups),
    `status`, `customer_class`, `department`, `kind`, `city`, `archived`."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    select_related = ("status",)
    prefetch_related = ("tags", "groups", "contacts")
    action_perms = {
        "status": ["customers.change_customer"],
        "archive": ["customers.change_customer"],
        "restore": ["customers.change_customer"],
        "status_history": ["customers.view_customer"],
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
        body = StatusChangeRequestSerializer(data=request.data)
        body.fields["status"].queryset = Status.objects.restrict(request.user)
        body.is_valid(raise_exception=True)
        customer = services.customer_status_change(
            actor=self.actor, customer=customer, expected_version=expected, **body.validated_data
        )
        return self._object_response(customer)

    @extend_schema(request=ArchiveRequestSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        customer = self.get_object()
        body = ArchiveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = services.customer_archive(
            actor=self.actor, customer=customer, reason=body.validated_data["reason"]
        )
        return self._object_response(customer)

    @extend_schema(request=ArchiveRequestSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        customer = self.get_object()
        body = ArchiveRequestSerializer(data=request.data)
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

    def perform_service_create(self, data):
        data = dict(data)
        customer = data.pop("customer")
        return services.contact_create(actor=self.actor, customer=customer, data=data)

    def perform_service_update(self, instance, data, expected_version):
        data = dict(data)
        data.pop("customer", None)
        return services.contact_update(
            actor=self.actor, contact=instance, data=data, expected_version=expected_version
        )

    def perform_service_delete(self, instance):
        services.contact_delete(actor=self.actor, contact=instance)
