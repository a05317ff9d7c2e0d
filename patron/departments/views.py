"""Department pages: list with members, add/edit (members included), delete."""

from django.db.models import Prefetch
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from patron.core.tables import Column
from patron.core.views import ObjectDeleteView, ObjectEditView, ObjectListView
from patron.departments import services
from patron.departments.filters import DepartmentFilterSet
from patron.departments.forms import DepartmentForm
from patron.departments.models import Department
from patron.statuses.views import name_cell


def member_list(department: Department):
    members = department.members.all()
    if not members:
        return mark_safe('<span class="text-body-tertiary">No members yet</span>')
    return format_html_join(
        " ",
        '<span class="badge rounded-pill text-bg-light border{}">{}</span>',
        ((" text-decoration-line-through" if not m.is_active else "", str(m)) for m in members),
    )


class DepartmentListView(ObjectListView):
    model = Department
    filterset_class = DepartmentFilterSet
    add_url_name = "departments:add"

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("name", html=lambda d: name_cell(user, Department, d)),
            Column(
                "email",
                html=lambda d: (
                    format_html('<a href="mailto:{0}">{0}</a>', d.email) if d.email else ""
                ),
            ),
            Column("members", html=member_list, sortable=False),
            Column("description", sortable=False),
        ]

    def get_base_queryset(self):
        from django.contrib.auth import get_user_model

        people = get_user_model().objects.order_by("first_name", "last_name", "username")
        return super().get_base_queryset().prefetch_related(Prefetch("members", queryset=people))


class DepartmentEditView(ObjectEditView):
    model = Department
    form_class = DepartmentForm
    success_url_name = "departments:list"
    delete_url_name = "departments:delete"

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        return services.department_create(
            actor=self.actor, data=form.model_data, members=form.cleaned_data["members"]
        )

    def update(self, instance, form, expected_version):
        return services.department_update(
            actor=self.actor,
            department=instance,
            data=form.model_data,
            members=form.cleaned_data["members"],
            expected_version=expected_version,
        )


class DepartmentDeleteView(ObjectDeleteView):
    model = Department
    success_url_name = "departments:list"

    def delete(self, obj):
        services.department_delete(actor=self.actor, department=obj)
