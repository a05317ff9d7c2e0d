"""Generic views: every list, form and delete page is a thin subclass of these.

Objects are always fetched through `restrict()`: a row the user may not see
is a 404, never a 403 that would reveal it exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View

from patron.core.actor import Actor
from patron.core.errors import ConflictError, ValidationError
from patron.core.redirects import safe_next


def perm_name(model: type[Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def get_restricted_object(request, model: type[Model], action: str = "view", **lookup):
    """The only way a view obtains an object: restricted, 404 when not visible."""
    return get_object_or_404(model.objects.restrict(request.user, action), **lookup)


def apply_form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class PatronView(LoginRequiredMixin, View):
    """Signed-in users only; `required_action` on `model` is checked up front."""

    model: type[Model] | None = None
    required_action = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        model, action = self.model, self.required_action
        if model is not None and action and not request.user.has_perm(perm_name(model, action)):
            raise PermissionDenied(
                f"Your role does not allow you to {self.required_action} "
                f"{self.model._meta.verbose_name_plural}."
            )
        return super().dispatch(request, *args, **kwargs)

    @property
    def actor(self) -> Actor:
        return Actor(user=self.request.user)


class ObjectListView(PatronView):
    """A filtered, sorted, paginated table of one model."""

    template_name = "core/object_list.html"
    table_template_name = "core/_object_table.html"
    filterset_class = None
    columns: list = []
    default_ordering: tuple = ("name",)
    paginate_by = 50
    title = ""
    add_url_name = ""
    select_related: tuple = ()
    prefetch_related: tuple = ()

    def get_base_queryset(self):
        qs = self.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_ordering(self):
        sort = self.request.GET.get("sort", "")
        allowed = {c.name: c.order_by for c in self.columns if c.sortable}
        key = sort.lstrip("-")
        if key in allowed:
            field = allowed[key]
            return (
                ("-" if sort.startswith("-") else "") + field,
                "-id" if sort.startswith("-") else "id",
            ), sort
        return self.default_ordering, ""

    def get_paginator(self, queryset, filterset, ordering) -> Paginator:
        """The paginator of the list; a list with a costly count supplies its own."""
        return Paginator(queryset, self.paginate_by)

    def get_context_data(self, **kwargs):
        qs = self.get_base_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(self.request.GET, queryset=qs, request=self.request)
            qs = filterset.qs if filterset.is_valid() else qs.none()
        ordering, sort = self.get_ordering()
        qs = qs.order_by(*ordering)
        paginator = self.get_paginator(qs, filterset, ordering)
        page = paginator.get_page(getattr(paginator, "wanted", self.request.GET.get("page")))
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        can_add = self.request.user.has_perm(perm_name(self.model, "add"))
        return {
            "title": self.title or self.model._meta.verbose_name_plural.capitalize(),
            "model_name": self.model._meta.verbose_name,
            "filterset": filterset,
            "columns": self.columns,
            "page_obj": page,
            "rows": [(obj, [c.render(obj) for c in self.columns]) for obj in page.object_list],
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "add_url": reverse(self.add_url_name) if self.add_url_name and can_add else "",
            **kwargs,
        }

    def get(self, request, *args, **kwargs):
        context = self.get_context_data()
        template = (
            self.table_template_name
            if request.htmx and not request.htmx.boosted
            else self.template_name
        )
        return TemplateResponse(request, template, context)


class ObjectEditView(PatronView):
    """Create (no pk) or edit (pk) one object through its service functions.

    A safe `?next=` (`patron.core.redirects`) is the Cancel link and where
    Save leads; without one they lead to the list or the object.
    """

    template_name = "core/object_form.html"
    form_class = None
    success_url_name = ""
    delete_url_name = ""

    def dispatch(self, request, *args, **kwargs):
        self.required_action = "change" if kwargs.get("pk") else "add"
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        if not self.kwargs.get("pk"):
            return None
        return get_restricted_object(self.request, self.model, "change", pk=self.kwargs["pk"])

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance)

    def create(self, form):
        raise NotImplementedError

    def update(self, instance, form, expected_version):
        raise NotImplementedError

    def success_url(self, obj):
        if self.success_url_name:
            return reverse(self.success_url_name)
        return obj.get_absolute_url()

    def render(self, form, instance, status=200):
        verbose = self.model._meta.verbose_name
        return TemplateResponse(
            self.request,
            self.template_name,
            {
                "form": form,
                "object": instance,
                "title": f"Edit {verbose} {instance}" if instance else f"New {verbose}",
                "cancel_url": safe_next(
                    self.request, reverse(self.success_url_name) if self.success_url_name else "/"
                ),
                "delete_url": self.delete_url(instance),
            },
            status=status,
        )

    def delete_url(self, instance):
        """The delete page of `instance`, when `delete_url_name` is set and the user may delete."""
        if (
            instance
            and self.delete_url_name
            and self.request.user.has_perm(perm_name(self.model, "delete"))
        ):
            return reverse(self.delete_url_name, args=[instance.pk])
        return ""

    def get(self, request, *args, **kwargs):
        instance = self.get_object()
        return self.render(self.get_form(instance), instance)

    def post(self, request, *args, **kwargs):
        instance = self.get_object()
        form = self.get_form(instance, data=request.POST)
        if form.is_valid():
            try:
                if instance is None:
                    obj = self.create(form)
                    messages.success(request, f"Created {self.model._meta.verbose_name} “{obj}”.")
                else:
                    obj = self.update(instance, form, form.cleaned_data.get("version"))
                    messages.success(request, f"Saved {self.model._meta.verbose_name} “{obj}”.")
                return HttpResponseRedirect(safe_next(request, self.success_url(obj)))
            except ValidationError as exc:
                apply_form_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
                return self.render(form, instance, status=409)
        return self.render(form, instance, status=400)


class ObjectDeleteView(PatronView):
    """Confirm, then delete through the service; refusals are shown, not raised.

    A safe `?next=` is the Cancel link and where the page leads after deleting.
    """

    required_action = "delete"
    template_name = "core/object_confirm_delete.html"
    success_url_name = ""

    def delete(self, obj):
        raise NotImplementedError

    def get_object(self):
        return get_restricted_object(self.request, self.model, "delete", pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return TemplateResponse(
            request,
            self.template_name,
            {
                "object": obj,
                "title": f"Delete {self.model._meta.verbose_name} {obj}",
                "cancel_url": safe_next(request, obj.get_absolute_url()),
            },
        )

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            self.delete(obj)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, f"Deleted {self.model._meta.verbose_name} “{obj}”.")
        return HttpResponseRedirect(safe_next(request, reverse(self.success_url_name)))
