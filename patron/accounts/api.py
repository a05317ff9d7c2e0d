"""Users, roles and API tokens in the REST API, over the same services."""

from django.contrib.auth.models import Permission
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from patron.accounts import services
from patron.accounts.filters import RoleFilterSet, UserFilterSet
from patron.accounts.models import ApiToken, Role, User
from patron.core.api.serializers import PatronModelSerializer, PatronSerializer
from patron.core.api.viewsets import PatronViewSet
from patron.groups.models import Group

USER_FIELDS = ["username", "first_name", "last_name", "email", "role", "is_active"]


class UserSerializer(PatronModelSerializer):
    """A staff user. `password` is write-only and needed on creation; change it later
    with `POST /api/users/<id>/password/`. `restricted_groups` (ids) replaces the set."""

    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    restricted_groups = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), many=True, required=False
    )
    departments = serializers.StringRelatedField(many=True, read_only=True)
    role_name = serializers.CharField(source="role.name", read_only=True, default=None)
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = [
            "id",
            *USER_FIELDS,
            "role_name",
            "restricted_groups",
            "departments",
            "password",
            "last_login",
            "date_joined",
            "version",
        ]
        read_only_fields = ["last_login", "date_joined", "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is None:
            self.fields["password"].required = True
        else:
            # A password is set through its own endpoint, never by a profile edit.
            self.fields["password"].read_only = True


class PasswordSerializer(PatronSerializer):
    password = serializers.CharField(style={"input_type": "password"})


class UserViewSet(PatronViewSet):
    """Staff users. Everyone with `view_user` may read; only Owners write.
    Users are deactivated (`is_active: false`), never deleted."""

    model = User
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    select_related = ("role",)
    prefetch_related = ("restricted_groups", "departments")
    action_perms = {"password": ["accounts.change_user"]}

    def get_queryset(self):
        if self.action == "password":
            return User.objects.restrict(self.request.user, "change")
        return super().get_queryset()

    def perform_service_create(self, data):
        data = dict(data)
        password = data.pop("password")
        return services.user_create(actor=self.actor, data=data, password=password)

    def perform_service_update(self, instance, data, expected_version):
        return services.user_update(
            actor=self.actor, user=instance, data=data, expected_version=expected_version
        )

    def destroy(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed(
            "DELETE", detail="Users are deactivated, never deleted: set is_active to false."
        )

    @extend_schema(request=PasswordSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    @transaction.atomic
    def password(self, request, pk=None):
        """Set a user's password (Owners; a stale `If-Match` gets 412)."""
        user = self.locked_for_write(self.get_object())
        body = PasswordSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        services.user_set_password(
            actor=self.actor, user=user, password=body.validated_data["password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PermissionListField(serializers.ListField):
    """Permissions as "app_label.codename" strings."""

    child = serializers.CharField()

    def to_representation(self, value):
        return services.perm_names(value.all().select_related("content_type"))

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        wanted = {}
        for name in names:
            app_label, dot, codename = name.partition(".")
            if not dot or not app_label or not codename:
                raise serializers.ValidationError(
                    f"“{name}” is not a permission; write it as app_label.codename, "
                    "e.g. tags.add_tag."
                )
            wanted[name] = (app_label, codename)
        found = {
            f"{p.content_type.app_label}.{p.codename}": p
            for p in Permission.objects.filter(
                content_type__app_label__in={a for a, _ in wanted.values()},
                codename__in={c for _, c in wanted.values()},
            ).select_related("content_type")
        }
        unknown = sorted(set(wanted) - set(found))
        if unknown:
            raise serializers.ValidationError(f"Unknown permission: {', '.join(unknown)}.")
        return [found[name] for name in wanted]


class RoleSerializer(PatronModelSerializer):
    """A role. `permissions` lists "app_label.codename" strings and replaces the set;
    an Owner role holds every permission whatever its list says."""

    permissions = PermissionListField(required=False)
    user_count = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "description",
            "is_owner",
            "permissions",
            "user_count",
            "version",
            "created",
            "modified",
        ]
        read_only_fields = ["version", "created", "modified"]

    def get_user_count(self, role) -> int:
        return role.users.count()


class RoleViewSet(PatronViewSet):
    """Roles as editable permission sets. Only Owners write."""

    model = Role
    serializer_class = RoleSerializer
    filterset_class = RoleFilterSet
    prefetch_related = ("permissions__content_type",)

    def perform_service_create(self, data):
        data = dict(data)
        perms = data.pop("permissions", [])
        return services.role_create(actor=self.actor, data=data, permissions=perms)

    def perform_service_update(self, instance, data, expected_version):
        data = dict(data)
        perms = data.pop("permissions", None)
        return services.role_update(
            actor=self.actor,
            role=instance,
            data=data,
            permissions=perms,
            expected_version=expected_version,
        )

    def perform_service_delete(self, instance):
        services.role_delete(actor=self.actor, role=instance)


class TokenSerializer(PatronModelSerializer):
    """An API token. `key` is only in the answer to the POST that created it."""

    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False)
    username = serializers.CharField(source="user.username", read_only=True)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "user",
            "username",
            "prefix",
            "created",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "state",
        ]
        read_only_fields = ["prefix", "created", "revoked_at", "last_used_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            user = request.user
            active = User.objects.filter(is_active=True)
            if not getattr(user, "is_owner", False):
                active = active.filter(pk=getattr(user, "pk", None))
            self.fields["user"].queryset = active


class NewTokenSerializer(TokenSerializer):
    key = serializers.SerializerMethodField()

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]

    def get_key(self, token) -> str:
        return self.context["key"]


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """API tokens: your own, or everyone's for Owners. Revoke with
    `POST /api/tokens/<id>/revoke/`; a revoked or expired token is refused with 401."""

    serializer_class = TokenSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return ApiToken.objects.restrict(self.request.user).select_related("user")

    @property
    def actor(self):
        from patron.core.actor import Actor

        return Actor.from_request(self.request)

    @extend_schema(responses={201: NewTokenSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, key = services.token_create(
            actor=self.actor,
            user=data.get("user") or request.user,
            name=data["name"],
            expires_at=data.get("expires_at"),
        )
        body = NewTokenSerializer(token, context={**self.get_serializer_context(), "key": key})
        return Response(body.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.token_revoke(actor=self.actor, token=self.get_object())
        return Response(self.get_serializer(token).data)
