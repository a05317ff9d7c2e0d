"""Tag pages: list, add/edit, merge, delete."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

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
from patron.customers.models import Customer
from patron.tags import services
from patron.tags.filters import TagFilterSet
from patron.tags.forms import TagForm, TagMergeForm
from patron.tags.models import Tag


class TagListView(ObjectListView):
    model = Tag
    filterset_class = TagFilterSet
    add_url_name = "tags:add"
    columns = [
        Column("name", link=True),
        Column(
            "colour", html=lambda t: badge(t.name, t.colour), sortable=False, label="Looks like"
        ),
        Column("description", sortable=False),
        Column("customer_count", label="Customers", order_by="customer_count"),
    ]

    def get_base_queryset(self):
        # A user restricted to groups counts only the customers they can see (ACC-3).
        visible = None
        if getattr(self.request.user, "has_customer_restriction", False):
            customers = Customer.objects.restrict(self.request.user).values("pk")
            visible = Q(customer_links__customer__in=customers)
        return (
            super()
            .get_base_queryset()
            .annotate(customer_count=Count("customer_links", filter=visible))
        )


class TagEditView(ObjectEditView):
    model = Tag
    form_class = TagForm
    template_name = "tags/tag_form.html"
    success_url_name = "tags:list"
    delete_url_name = "tags:delete"

    def create(self, form):
        return services.tag_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.tag_update(
            actor=self.actor, tag=instance, data=form.model_data, expected_version=expected_version
        )


class TagDeleteView(ObjectDeleteView):
    model = Tag
    success_url_name = "tags:list"

    def delete(self, obj):
        services.tag_delete(actor=self.actor, tag=obj)


class TagMergeView(PatronView):
    model = Tag
    required_action = "delete"

    def dispatch_form(self, request, pk, data=None):
        source = get_restricted_object(request, Tag, "change", pk=pk)
        form = TagMergeForm(data, source=source, queryset=Tag.objects.restrict(request.user))
        return source, form

    def render(self, source, form, status=200):
        return TemplateResponse(
            self.request,
            "tags/merge.html",
            {"form": form, "object": source, "title": f"Merge tag {source}"},
            status=status,
        )

    def get(self, request, pk):
        return self.render(*self.dispatch_form(request, pk))

    def post(self, request, pk):
        source, form = self.dispatch_form(request, pk, request.POST)
        if form.is_valid():
            try:
                target = services.tag_merge(
                    actor=self.actor, source=source, target=form.cleaned_data["target"]
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, f"Merged “{source}” into “{target}”.")
                return HttpResponseRedirect(reverse("tags:list"))
        return self.render(source, form, status=400)
