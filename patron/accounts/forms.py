import datetime

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst

from patron.accounts import throttle
from patron.accounts.models import Role, User
from patron.core.forms import PatronForm, PatronModelForm, StyledFormMixin


class LoginForm(StyledFormMixin, AuthenticationForm):
    """Sign-in that refuses further attempts after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Both are case-sensitive.",
        "locked": "Too many failed sign-in attempts. Try again in %(minutes)s minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = self.request.META.get("REMOTE_ADDR") if self.request else None
        if username and throttle.is_locked(username, address):
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.PATRON_LOGIN_LOCK_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                throttle.record_failure(username, address)
            raise
        throttle.clear_failures(username)
        return cleaned


class UserForm(PatronModelForm):
    """A staff user's profile, role and access. Passwords are set on create and by Owners."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    departments = forms.CharField(
        required=False,
        disabled=True,
        help_text="Membership is managed on each department's page.",
    )

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "is_active",
            "restricted_groups",
        ]
        labels = {"is_active": "Active (may sign in)"}
        help_texts = {
            "username": "Letters, digits and @ . + - _ only.",
            "is_active": "An inactive user cannot sign in and their API tokens stop working; "
            "their history stays.",
            "restricted_groups": "Leave empty to see every customer. When set, this user sees "
            "only customers in these groups and their subgroups.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if not user.is_owner:
            self.fields["role"].queryset = self.fields["role"].queryset.filter(is_owner=False)
        self.fields["role"].required = True
        self.fields["role"].empty_label = "Choose a role…"
        self.fields["restricted_groups"].queryset = self.fields[
            "restricted_groups"
        ].queryset.select_related("group_set")
        self.fields["restricted_groups"].label_from_instance = lambda g: (
            f"{g.group_set.name}: {'— ' * g.depth}{g.name}"
        )
        # The chosen groups as removable chips and an "add group" select; without
        # JavaScript, a checkbox per group. Never a Ctrl-click list.
        self.fields["restricted_groups"].widget = GroupChipsWidget(
            choices=self.fields["restricted_groups"].widget.choices
        )
        self.fields["restricted_groups"].label = "Restricted to customer groups"
        if self.instance.pk:
            del self.fields["password1"], self.fields["password2"]
            names = [d.name for d in self.instance.departments.all()]
            self.fields["departments"].initial = ", ".join(names) or "None"
        else:
            del self.fields["departments"]
            self.fields["is_active"].initial = True

    @property
    def sections(self):
        access = ["role", "is_active", "restricted_groups"]
        if "departments" in self.fields:
            access.append("departments")
        sections = [
            ("Person", [self[n] for n in ("username", "first_name", "last_name", "email")]),
            ("Access", [self[n] for n in access]),
        ]
        if "password1" in self.fields:
            sections.append(("Password", [self["password1"], self["password2"]]))
        return sections

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


class GroupChipsWidget(forms.CheckboxSelectMultiple):
    """Checkboxes, shown by patron.js as chips with an "add group" select."""

    template_name = "accounts/widgets/group_chips.html"
    # Not "checkbox": the form lays it out as a labelled field, not a single tick box.
    input_type = "group-chips"

    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        option["type"] = "checkbox"
        return option


class SetPasswordForm(PatronForm):
    password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )
    password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


MATRIX_ACTIONS = ("view", "add", "change", "delete")
# Rows that are internal bookkeeping rather than something a role should grant.
# API tokens follow their owner, not a permission, so they are left out too.
MATRIX_HIDDEN_MODELS = {
    ("accounts", "loginfailure"),
    ("accounts", "apitoken"),
    ("core", "sequence"),
}
# Written only by Patron itself: a role can grant reading them, nothing more.
MATRIX_VIEW_ONLY_MODELS = {("events", "event")}


def matrix_models() -> list:
    """Patron's models, grouped by app, in the order the apps are installed."""
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("patron.")
        and (model._meta.app_label, model._meta.model_name) not in MATRIX_HIDDEN_MODELS
    ]


def matrix_permissions():
    labels = {m._meta.app_label for m in matrix_models()}
    hidden = Q()
    for app_label, model in MATRIX_HIDDEN_MODELS:
        hidden |= Q(content_type__app_label=app_label, content_type__model=model)
    return (
        Permission.objects.filter(content_type__app_label__in=labels)
        .exclude(hidden)
        .select_related("content_type")
    )


class RoleForm(PatronModelForm):
    """A role and its permission set, shown as a matrix of models × actions."""

    permissions = forms.ModelMultipleChoiceField(
        queryset=Permission.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Role
        fields = ["name", "description", "is_owner"]
        labels = {"is_owner": "Owner role (every permission)"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = matrix_permissions()
        if self.instance.pk:
            self.fields["permissions"].initial = list(
                self.instance.permissions.values_list("pk", flat=True)
            )
        # An Owner role stays one; and only Owners may create another.
        if self.instance.is_owner or not user.is_owner:
            self.fields["is_owner"].disabled = True

    def selected_ids(self) -> set[int]:
        if self.is_bound:
            raw = self.data.getlist("permissions") if hasattr(self.data, "getlist") else []
            return {int(v) for v in raw if str(v).isdigit()}
        return set(self.fields["permissions"].initial or [])

    def matrix(self) -> list[dict]:
        """[{app, rows: [{label, cells: [(action, perm|None, checked)], other: [...]}]}]."""
        selected = self.selected_ids()
        all_checked = bool(self.instance.pk and self.instance.is_owner)
        by_key = {
            (p.content_type.app_label, p.content_type.model, p.codename): p
            for p in self.fields["permissions"].queryset
        }
        apps_seen: dict[str, dict] = {}
        for model in matrix_models():
            opts = model._meta
            group = apps_seen.setdefault(
                opts.app_label,
                {"app": str(opts.app_config.verbose_name), "rows": []},
            )
            cells, standard = [], set()
            for action in MATRIX_ACTIONS:
                codename = f"{action}_{opts.model_name}"
                standard.add(codename)
                perm = by_key.get((opts.app_label, opts.model_name, codename))
                if (
                    action != "view"
                    and (opts.app_label, opts.model_name) in MATRIX_VIEW_ONLY_MODELS
                ):
                    perm = None
                checked = perm is not None and (all_checked or perm.pk in selected)
                cells.append((action, perm, checked))
            other = [
                (p, all_checked or p.pk in selected)
                for (app, name, codename), p in by_key.items()
                if app == opts.app_label and name == opts.model_name and codename not in standard
            ]
            if other or any(perm is not None for _, perm, _ in cells):
                group["rows"].append(
                    {"label": capfirst(opts.verbose_name_plural), "cells": cells, "other": other}
                )
        return [group for group in apps_seen.values() if group["rows"]]


class TokenForm(PatronForm):
    """A new API token: a name, an optional expiry and (for Owners) whose it is."""

    name = forms.CharField(
        max_length=100, help_text="What will use it, e.g. “Billing export script”."
    )
    expires_on = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="For user")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        days = settings.PATRON_TOKEN_DAYS
        self.fields["expires_on"].help_text = (
            f"Leave empty for the default: {days} days from today."
            if days
            else "Leave empty to never expire."
        )
        if user.is_owner:
            self.fields["user"].queryset = User.objects.restrict(user).filter(is_active=True)
            self.fields["user"].initial = user.pk
            self.fields["user"].required = True
        else:
            del self.fields["user"]

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError("Choose a date after today.")
        return value

    @property
    def expires_at(self):
        value = self.cleaned_data.get("expires_on")
        if value is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
