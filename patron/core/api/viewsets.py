"""The base of every API endpoint.

`PatronViewSet` reads through `restrict()`, writes through the app's service
functions, sends an ETag with every object and honours `If-Match` so a stale
update gets 412 instead of silently overwriting someone else's change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response

from patron.core.actor import Actor
from patron.core.errors import ConflictError
from patron.core.services import lock


@dataclass(frozen=True)
class ServiceWrites:
    """The service functions a viewset writes through, declared once.

    `create(*, actor, data)`, `update(*, actor, <name>=obj, data, expected_version)`
    and `delete(*, actor, <name>=obj)`; `name` is the keyword naming the object.
    With `parent` (e.g. "customer") that field is taken out of the data and
    passed by keyword on create, and dropped on update (it is fixed once set).
    A missing `delete` answers 405.
    """

    create: Callable
    update: Callable
    name: str
    delete: Callable | None = None
    parent: str = ""


class PatronViewSet(viewsets.ModelViewSet):
    """CRUD over one model through `restrict()` and the app's services.

    Subclasses set `model`, `serializer_class`, `filterset_class` and either
    `writes = ServiceWrites(create=..., update=..., delete=..., name="tag")` or,
    when a write needs more than that, their own `perform_service_create(data)`,
    `perform_service_update(instance, data, expected_version)` and
    `perform_service_delete(instance)`.
    """

    model = None
    writes: ServiceWrites | None = None
    lookup_value_regex = r"\d+"
    select_related: tuple = ()
    prefetch_related: tuple = ()

    def get_queryset(self):
        action = {
            "list": "view",
            "retrieve": "view",
            "update": "change",
            "partial_update": "change",
            "destroy": "delete",
        }.get(self.action, "view")
        qs = self.model.objects.restrict(self.request.user, action)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def filter_queryset(self, queryset):
        # Filters narrow lists; a detail URL names its object whatever the filters' defaults.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def expected_version(self, instance) -> int | None:
        """The version named by If-Match; 412 when it is not the current one."""
        header = self.request.headers.get("If-Match")
        if not header or header.strip() == "*":
            return None
        tags = {t.strip().removeprefix("W/") for t in header.split(",")}
        if instance.etag not in tags:
            raise ConflictError(instance)
        return instance.version

    def locked_for_write(self, instance):
        """For an action that writes on `instance` (archive, a membership, a comment):
        412 on a stale If-Match, and the row re-read under a lock held until the
        action's transaction ends, so nobody changes it between the check and the
        write. The action runs in `transaction.atomic`."""
        expected = self.expected_version(instance)
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("locked_for_write() needs the action to run in transaction.atomic")
        return lock(instance, expected)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = instance.etag
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service_create(serializer.validated_data)
        instance = self.get_queryset().model.objects.get(pk=instance.pk)
        response = Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)
        response["ETag"] = instance.etag
        return response

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        expected = self.expected_version(instance)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service_update(instance, serializer.validated_data, expected)
        instance = self.get_queryset().get(pk=instance.pk)
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = instance.etag
        return response

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.expected_version(instance)
        self.perform_service_delete(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_service_create(self, data):
        if self.writes is None:
            raise NotImplementedError(f"{type(self).__name__} declares no services")
        data = dict(data)
        parent = {self.writes.parent: data.pop(self.writes.parent)} if self.writes.parent else {}
        return self.writes.create(actor=self.actor, data=data, **parent)

    def perform_service_update(self, instance, data, expected_version):
        if self.writes is None:
            raise NotImplementedError(f"{type(self).__name__} declares no services")
        data = dict(data)
        if self.writes.parent:
            data.pop(self.writes.parent, None)
        return self.writes.update(
            actor=self.actor,
            data=data,
            expected_version=expected_version,
            **{self.writes.name: instance},
        )

    def perform_service_delete(self, instance):
        if self.writes is None or self.writes.delete is None:
            raise exceptions.MethodNotAllowed(self.request.method)
        self.writes.delete(actor=self.actor, **{self.writes.name: instance})
