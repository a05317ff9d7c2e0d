"""Sign-in, users, roles and API tokens."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from patron.accounts import services
from patron.accounts.filters import RoleFilterSet, UserFilterSet
from patron.accounts.forms import LoginForm, RoleForm, SetPasswordForm, TokenForm, UserForm
from patron.accounts.models import ApiToken, Role, User
from patron.core.errors import ValidationError
from patron.core.tables import Column, badge
from patron.core.views import (
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    PatronView,
    apply_form_errors,
    get_restricted_object,
)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


# --- users -----------------------------------------------------------------


def _role_badge(user):
    if user.role is None:
        return badge("No role")
    return badge(user.role.name, "#0d6efd" if user.role.is_owner else "#6c757d")


class UserListView(ObjectListView):
    model = User
    filterset_class = UserFilterSet
    add_url_name = "accounts:user_add"
    default_ordering = ("username",)
    select_related = ("role",)
    prefetch_related = ("restricted_groups", "departments")
    columns = [
        Column("username", link=True),
        Column("name", accessor=lambda u: u.get_full_name(), order_by="last_name"),
        Column("email"),
        Column("role", html=_role_badge, order_by="role__name"),
        Column("is_active", label="Active"),
        Column(
            "restricted_groups",
            label="Sees customers in",
            sortable=False,
            accessor=lambda u: ", ".join(g.name for g in u.restricted_groups.all()) or "All groups",
        ),
        Column(
            "departments",
            sortable=False,
            accessor=lambda u: ", ".join(d.name for d in u.departments.all()),
        ),
        Column(
            "last_login",
            label="Last sign-in",
            accessor=lambda u: (
                timezone.localtime(u.last_login).strftime("%d %b %Y %H:%M")
                if u.last_login
                else "Never"
            ),
        ),
    ]


class UserEditView(ObjectEditView):
    model = User
    form_class = UserForm
    template_name = "accounts/user_form.html"
    success_url_name = "accounts:user_list"

    def get_object(self):
        if not self.kwargs.get("pk"):
            return None
        return get_restricted_object(self.request, User, "change", pk=self.kwargs["pk"])

    def get_form(self, instance, data=None):
        return UserForm(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        data = {**form.model_data, "restricted_groups": form.cleaned_data["restricted_groups"]}
        try:
            return services.user_create(
                actor=self.actor, data=data, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            # Password rules belong under the password field of this form.
            if hasattr(exc, "error_dict") and "password" in exc.error_dict:
                raise ValidationError({"password1": exc.error_dict["password"]}) from exc
            raise

    def update(self, instance, form, expected_version):
        data = {**form.model_data, "restricted_groups": form.cleaned_data["restricted_groups"]}
        return services.user_update(
            actor=self.actor, user=instance, data=data, expected_version=expected_version
        )

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        if instance is not None:
            response.context_data["title"] = f"Edit user {instance.username}"
        return response


class UserPasswordView(PatronView):
    """An Owner sets a user's password (e.g. a forgotten one)."""

    model = User
    required_action = "change"

    def render(self, user, form, status=200):
        return TemplateResponse(
            self.request,
            "core/object_form.html",
            {
                "form": form,
                "object": user,
                "title": f"Set the password of {user.username}",
                "cancel_url": reverse("accounts:user_edit", args=[user.pk]),
            },
            status=status,
        )

    def get(self, request, pk):
        user = get_restricted_object(request, User, "change", pk=pk)
        return self.render(user, SetPasswordForm())

    def post(self, request, pk):
        user = get_restricted_object(request, User, "change", pk=pk)
        form = SetPasswordForm(request.POST)
        if form.is_valid():
            try:
                user = services.user_set_password(
                    actor=self.actor, user=user, password=form.cleaned_data["password1"]
                )
            except ValidationError as exc:
                for error in exc.message_dict.get("password", exc.messages):
                    form.add_error("password1", error)
            else:
                if user.pk == request.user.pk:
                    update_session_auth_hash(request, user)
                messages.success(request, f"Set a new password for “{user.username}”.")
                return HttpResponseRedirect(reverse("accounts:user_list"))
        return self.render(user, form, status=400)


# --- roles -----------------------------------------------------------------


class RoleListView(ObjectListView):
    model = Role
    filterset_class = RoleFilterSet
    add_url_name = "accounts:role_add"
    default_ordering = ("-is_owner", "name")
    columns = [
        Column("name", link=True),
        Column("description", sortable=False),
        Column(
            "permission_count",
            label="Permissions",
            accessor=lambda r: "All" if r.is_owner else r.permission_count,
        ),
        Column("user_count", label="Users"),
    ]

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(
                user_count=Count("users", distinct=True),
                permission_count=Count("permissions", distinct=True),
            )
        )


class RoleEditView(ObjectEditView):
    model = Role
    form_class = RoleForm
    template_name = "accounts/role_form.html"
    success_url_name = "accounts:role_list"
    delete_url_name = "accounts:role_delete"

    def get_form(self, instance, data=None):
        return RoleForm(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        return services.role_create(
            actor=self.actor,
            data=form.model_data,
            permissions=form.cleaned_data["permissions"],
        )

    def update(self, instance, form, expected_version):
        return services.role_update(
            actor=self.actor,
            role=instance,
            data=form.model_data,
            permissions=None if instance.is_owner else form.cleaned_data["permissions"],
            expected_version=expected_version,
        )


class RoleDeleteView(ObjectDeleteView):
    model = Role
    success_url_name = "accounts:role_list"

    def delete(self, obj):
        services.role_delete(actor=self.actor, role=obj)


# --- API tokens ---------------------------------------------------------------


def _token_state(token):
    colours = {"active": "#198754", "expired": "#6c757d", "revoked": "#dc3545"}
    return badge(token.state.capitalize(), colours[token.state])


def _when(value, empty="—"):
    return timezone.localtime(value).strftime("%d %b %Y") if value else empty


class TokenListView(ObjectListView):
    """My API tokens; Owners see everyone's, with a user column."""

    model = ApiToken
    required_action = ""  # everyone manages their own tokens
    template_name = "accounts/token_list.html"
    table_template_name = "accounts/token_list.html"
    default_ordering = ("-created", "-id")
    select_related = ("user",)
    title = "API tokens"

    def get_columns(self):
        columns = [
            Column("name"),
            Column(
                "prefix",
                label="Key",
                sortable=False,
                html=lambda t: format_html("<code>{}…</code>", t.prefix),
            ),
            Column("created", accessor=lambda t: _when(t.created)),
            Column("expires_at", label="Expires", accessor=lambda t: _when(t.expires_at, "Never")),
            Column(
                "last_used_at", label="Last used", accessor=lambda t: _when(t.last_used_at, "Never")
            ),
            Column("state", sortable=False, html=_token_state),
        ]
        if self.request.user.is_owner:
            columns.insert(1, Column("user", order_by="user__username"))
        return columns

    def get_context_data(self, **kwargs):
        self.columns = self.get_columns()
        context = super().get_context_data(**kwargs)
        context["add_url"] = reverse("accounts:token_add")
        context["model_name"] = "token"
        return context


class TokenAddView(PatronView):
    """Issue a token; the key is shown on the next page, once."""

    def render(self, form, status=200):
        return TemplateResponse(
            self.request,
            "core/object_form.html",
            {"form": form, "title": "New API token", "cancel_url": reverse("accounts:token_list")},
            status=status,
        )

    def get(self, request):
        return self.render(TokenForm(user=request.user))

    def post(self, request):
        form = TokenForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                token, key = services.token_create(
                    actor=self.actor,
                    user=form.cleaned_data.get("user") or request.user,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "expires_at" in exc.error_dict:
                    exc = ValidationError({"expires_on": exc.error_dict["expires_at"]})
                apply_form_errors(form, exc)
            else:
                response = TemplateResponse(
                    request,
                    "accounts/token_created.html",
                    {"token": token, "key": key, "title": "Your new API token"},
                )
                # The key must not linger in any cache once this page is closed.
                response["Cache-Control"] = "no-store"
                return response
        return self.render(form, status=400)


class TokenRevokeView(PatronView):
    http_method_names = ["post"]

    def post(self, request, pk):
        token = get_restricted_object(request, ApiToken, "change", pk=pk)
        try:
            services.token_revoke(actor=self.actor, token=token)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Revoked the token “{token.name}”. It no longer works.")
        return HttpResponseRedirect(reverse("accounts:token_list"))
