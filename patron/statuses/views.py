"""Status pages: list, add/edit (every field, in sections), delete."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from patron.core.tables import Column, badge, status_badge
from patron.core.views import ObjectDeleteView, ObjectEditView, ObjectListView, perm_name
from patron.statuses import services
from patron.statuses.filters import StatusFilterSet
from patron.statuses.forms import StatusForm
from patron.statuses.models import Status

AVAILABILITY_COLOURS = {
    Status.Availability.HEADLINE: "#0d6efd",
    Status.Availability.STANDARD: "#6c757d",
    Status.Availability.HISTORICAL: "#343a40",
}


def customer_count_subquery(field: str):
    """Customers holding each row, as one correlated subquery (no query per row)."""
    from patron.customers.models import Customer

    counts = (
        Customer.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def name_cell(user, model, obj):
    """The name, linked to the form for those who may change it."""
    if user.has_perm(perm_name(model, "change")):
        return format_html(
            '<a href="{}" class="fw-semibold text-nowrap">{}</a>', obj.get_absolute_url(), obj.name
        )
    return format_html('<span class="fw-semibold text-nowrap">{}</span>', obj.name)


def flag(value: bool):
    if value:
        return mark_safe('<span class="text-success fw-bold" title="Yes">✓</span>')
    return mark_safe('<span class="text-body-tertiary" title="No">–</span>')


def next_status_cell(status: Status):
    if not status.next_status_id:
        return mark_safe('<span class="text-body-tertiary">–</span>')
    return format_html(
        '{} <span class="small text-secondary">after {} day{}</span>',
        badge(status.next_status.name, css_class=f"status-{status.next_status.display_class}"),
        status.next_status_days,
        "" if status.next_status_days == 1 else "s",
    )


class StatusListView(ObjectListView):
    model = Status
    filterset_class = StatusFilterSet
    add_url_name = "statuses:add"
    default_ordering = ("position", "name")
    select_related = ("next_status",)

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("position", label="#"),
            Column("name", html=lambda s: name_cell(user, Status, s)),
            Column("short_name", label="Short name", html=lambda s: status_badge(s, short=True)),
            Column(
                "availability",
                html=lambda s: badge(
                    s.get_availability_display(), AVAILABILITY_COLOURS[s.availability]
                ),
            ),
            Column("is_active", label="Active", html=lambda s: flag(s.is_active)),
            Column("is_suspended", label="Suspended", html=lambda s: flag(s.is_suspended)),
            Column("crm_only", label="CRM only", html=lambda s: flag(s.crm_only)),
            Column("billable", html=lambda s: flag(s.billable)),
            Column(
                "next_status",
                label="Next status",
                html=next_status_cell,
                order_by="next_status__name",
            ),
            Column("customer_count", label="Customers"),
        ]

    def get_base_queryset(self):
        return (
            super().get_base_queryset().annotate(customer_count=customer_count_subquery("status"))
        )


class StatusEditView(ObjectEditView):
    model = Status
    form_class = StatusForm
    template_name = "statuses/status_form.html"
    success_url_name = "statuses:list"
    delete_url_name = "statuses:delete"

    def get_form(self, instance, data=None):
        return self.form_class(
            data=data,
            instance=instance,
            next_status_queryset=Status.objects.restrict(self.request.user),
        )

    def create(self, form):
        return services.status_create(actor=self.actor, data=form.service_data)

    def update(self, instance, form, expected_version):
        return services.status_update(
            actor=self.actor,
            status=instance,
            data=form.service_data,
            expected_version=expected_version,
        )


class StatusDeleteView(ObjectDeleteView):
    model = Status
    success_url_name = "statuses:list"

    def delete(self, obj):
        services.status_delete(actor=self.actor, status=obj)
