"""Group set and group pages: lists, the group page with its members, forms,
archive and delete."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from patron.core.errors import ValidationError
from patron.core.tables import Column, badge
from patron.core.views import (
    ObjectEditView,
    ObjectListView,
    PatronView,
    get_restricted_object,
    perm_name,
)
from patron.customers.models import Customer
from patron.groups import services
from patron.groups.dynamic import dynamic_group_explain, dynamic_group_members
from patron.groups.filters import GroupFilterSet, GroupSetFilterSet
from patron.groups.forms import GroupForm, GroupSetForm
from patron.groups.models import DynamicGroupChange, Group, GroupSet
from patron.groups.visibility import visible_member_count, visible_memberships
from patron.segments.language import Compiler, SegmentError

MEMBERS_PER_PAGE = 25
HISTORY_ROWS = 20


def _action_links(request, model, edit_name, delete_name, obj):
    links = []
    if request.user.has_perm(perm_name(model, "change")):
        links.append((reverse(edit_name, args=[obj.pk]), "Edit", "btn-outline-secondary"))
    if request.user.has_perm(perm_name(model, "delete")):
        links.append((reverse(delete_name, args=[obj.pk]), "Delete", "btn-outline-danger"))
    buttons = format_html_join(
        " ", '<a class="btn btn-sm {}" href="{}">{}</a>', ((c, u, t) for u, t, c in links)
    )
    return format_html('<div class="d-flex gap-1 justify-content-end">{}</div>', buttons)


def flag_badges(group: Group):
    flags = [
        ("Payment", group.payment_group, "#198754"),
        ("Personal", group.personal_customers, "#0d6efd"),
        ("Reseller", group.reseller, "#fd7e14"),
        ("Dynamic", group.segment_id is not None, "#6610f2"),
    ]
    return format_html_join(
        " ", "{}", ((badge(label, colour),) for label, on, colour in flags if on)
    )


def tree_name(group: Group):
    """The name indented by depth, its colour, and the path above it."""
    above = ""
    if group.depth:
        above = format_html(
            '<div class="small text-secondary">{} ›</div>', " › ".join(group.ancestor_names)
        )
    archived = badge("Archived", "#6c757d") if group.archived else ""
    return format_html(
        '<div style="padding-left: {}rem">{}'
        '<span class="d-inline-block rounded-circle me-2 align-middle" '
        'style="width: .7rem; height: .7rem; background: {}"></span>'
        '<a href="{}" class="fw-semibold">{}</a> {}</div>',
        group.depth * 1.5,
        above,
        group.colour,
        group.get_absolute_url(),
        group.name,
        archived,
    )


class GroupSetListView(ObjectListView):
    model = GroupSet
    filterset_class = GroupSetFilterSet
    add_url_name = "groups:set_add"
    title = "Group sets"
    default_ordering = ("position", "name")

    @property
    def columns(self):
        return [
            Column(
                "name",
                html=lambda s: format_html(
                    '<a href="{}?group_set={}" class="fw-semibold">{}</a>',
                    reverse("groups:list"),
                    s.pk,
                    s.name,
                ),
            ),
            Column("kind_label", label="Type", order_by="single_choice"),
            Column("group_count", label="Groups", order_by="group_count"),
            Column("description", sortable=False),
            Column("position"),
            Column(
                "actions",
                label="",
                sortable=False,
                html=lambda s: _action_links(
                    self.request, GroupSet, "groups:set_edit", "groups:set_delete", s
                ),
            ),
        ]

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(group_count=Count("groups"))


class GroupSetEditView(ObjectEditView):
    model = GroupSet
    form_class = GroupSetForm
    success_url_name = "groups:set_list"
    delete_url_name = "groups:set_delete"

    def create(self, form):
        return services.group_set_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.group_set_update(
            actor=self.actor,
            group_set=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class GroupListView(ObjectListView):
    """Groups as a tree: set, type, members of each group itself, flags."""

    model = Group
    filterset_class = GroupFilterSet
    add_url_name = "groups:add"
    title = "Groups"
    default_ordering = ("group_set__position", "group_set__name", "path")
    select_related = ("group_set",)
    columns = [
        Column("name", html=tree_name, order_by="name"),
        Column("group_set", label="Set", order_by="group_set__name"),
        Column(
            "type", accessor=lambda g: g.group_set.kind_label, order_by="group_set__single_choice"
        ),
        Column("member_count", label="Members", order_by="member_count"),
        Column("flags", html=flag_badges, sortable=False),
        Column("position"),
    ]

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(member_count=visible_member_count(self.request.user))
            .with_ancestor_names()
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compiler = Compiler(None)  # names read once for all the dynamic groups shown
        for group, cells in context["rows"]:
            if group.is_dynamic:  # live from its segment: one COUNT per dynamic group shown
                try:
                    members = dynamic_group_members(
                        group, user=self.request.user, compiler=compiler
                    )
                    cells[3] = members.count()
                except SegmentError:
                    cells[3] = format_html('<span class="text-danger small">Segment error</span>')
        return context


class GroupDetailView(PatronView):
    """A group: its details, its subgroups and its members, paged."""

    model = Group

    def get(self, request, pk):
        group = get_object_or_404(
            Group.objects.restrict(request.user).select_related("group_set", "parent", "segment"),
            pk=pk,
        )
        ancestors = {
            g.pk: g for g in Group.objects.restrict(request.user).filter(pk__in=group.ancestor_ids)
        }
        subgroups = (
            Group.objects.restrict(request.user)
            .filter(parent=group)
            .annotate(member_count=visible_member_count(request.user))
            .order_by("position", "name")
        )
        include_subgroups = request.GET.get("subgroups") == "1"
        members = Customer.objects.restrict(request.user).select_related("status")
        segment_error = ""
        if group.is_dynamic:
            # Live: whoever the segment selects now (subgroups included, as `group:` means).
            try:
                members = dynamic_group_members(group, user=request.user).select_related("status")
            except SegmentError as exc:
                segment_error, members = exc.message, members.none()
        elif include_subgroups:
            members = members.filter(memberships__group__path__startswith=group.path).distinct()
        else:
            members = members.filter(memberships__group=group)
        page = Paginator(members.order_by("name", "pk"), MEMBERS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        # A dynamic group's members are the page's own count; a static group counts
        # its direct members, whatever the subgroups switch lists.
        member_count = (
            page.paginator.count
            if group.is_dynamic
            else visible_memberships(group, request.user).count()
        )
        history = (
            DynamicGroupChange.objects.filter(group=group)
            .filter(customer__in=Customer.objects.restrict(request.user).values("pk"))
            .select_related("customer")[:HISTORY_ROWS]
        )
        query = request.GET.copy()
        query.pop("page", None)
        user = request.user
        return TemplateResponse(
            request,
            "groups/group_detail.html",
            {
                "title": group.name,
                "group": group,
                "object": group,
                "ancestors": [ancestors[i] for i in group.ancestor_ids if i in ancestors],
                "subgroups": subgroups,
                "members_page": page,
                "page_obj": page,
                "query": query.urlencode(),
                "include_subgroups": include_subgroups,
                "member_count": member_count,
                "segment_error": segment_error,
                "history": history,
                "can_change": user.has_perm("groups.change_group"),
                "can_delete": user.has_perm("groups.delete_group"),
                "can_add": user.has_perm("groups.add_group"),
            },
        )


class GroupEditView(ObjectEditView):
    model = Group
    form_class = GroupForm
    success_url_name = "groups:list"
    delete_url_name = "groups:delete"

    def get_form(self, instance, data=None):
        initial = {}
        if instance is None:
            # "Add subgroup" links name the parent; "Add group" on a filtered list its set.
            for key in ("group_set", "parent"):
                if self.request.GET.get(key, "").isdigit():
                    initial[key] = int(self.request.GET[key])
            if "parent" in initial and "group_set" not in initial:
                parent = Group.objects.restrict(self.request.user).filter(pk=initial["parent"])
                initial["group_set"] = parent.values_list("group_set_id", flat=True).first()
        return self.form_class(
            data=data, instance=instance, initial=initial, user=self.request.user
        )

    def create(self, form):
        return services.group_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.group_update(
            actor=self.actor,
            group=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def success_url(self, obj):
        return obj.get_absolute_url()


class GroupArchiveView(PatronView):
    """POST: archive an active group or restore an archived one."""

    model = Group
    required_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        group = get_restricted_object(request, Group, "change", pk=pk)
        archive = not group.archived
        services.group_archive(actor=self.actor, group=group, archived=archive)
        messages.success(
            request,
            f"Archived “{group}”: it stays on its members but is no longer offered."
            if archive
            else f"Restored “{group}”.",
        )
        return HttpResponseRedirect(group.get_absolute_url())


class _RefusableDeleteView(PatronView):
    """Confirm, then delete; a refusal is shown on the same page with what to do instead."""

    required_action = "delete"
    template_name = "groups/confirm_delete.html"
    success_url_name = ""

    def refusal(self, obj) -> str | None:
        raise NotImplementedError

    def delete(self, obj) -> None:
        raise NotImplementedError

    def cancel_url(self, obj) -> str:
        return obj.get_absolute_url()

    def archive_url(self, obj) -> str:
        return ""

    def render(self, obj, refusal, status=200):
        return TemplateResponse(
            self.request,
            self.template_name,
            {
                "object": obj,
                "title": f"Delete {self.model._meta.verbose_name} {obj}",
                "refusal": refusal,
                "cancel_url": self.cancel_url(obj),
                "archive_url": self.archive_url(obj) if refusal else "",
            },
            status=status,
        )

    def get(self, request, pk):
        obj = get_restricted_object(request, self.model, "delete", pk=pk)
        return self.render(obj, self.refusal(obj))

    def post(self, request, pk):
        obj = get_restricted_object(request, self.model, "delete", pk=pk)
        try:
            self.delete(obj)
        except ValidationError as exc:
            return self.render(obj, " ".join(exc.messages), status=400)
        messages.success(request, f"Deleted {self.model._meta.verbose_name} “{obj}”.")
        return HttpResponseRedirect(reverse(self.success_url_name))


class GroupSetDeleteView(_RefusableDeleteView):
    model = GroupSet
    success_url_name = "groups:set_list"

    def refusal(self, obj):
        return services.group_set_delete_refusal(obj)

    def delete(self, obj):
        services.group_set_delete(actor=self.actor, group_set=obj)

    def cancel_url(self, obj):
        return reverse("groups:set_list")


class GroupDeleteView(_RefusableDeleteView):
    model = Group
    success_url_name = "groups:list"

    def refusal(self, obj):
        return services.group_delete_refusal(obj)

    def delete(self, obj):
        services.group_delete(actor=self.actor, group=obj)

    def archive_url(self, obj):
        # A used group is kept for its members' history; archiving is the way out.
        if obj.archived or not self.request.user.has_perm("groups.change_group"):
            return ""
        if obj.was_used or obj.memberships.exists():
            return reverse("groups:archive", args=[obj.pk])
        return ""


class GroupExplainView(PatronView):
    """Term by term, why a customer is in a dynamic group or not (SEG-5)."""

    model = Group

    def get(self, request, pk, customer_pk):
        group = get_object_or_404(
            Group.objects.restrict(request.user).select_related("segment"), pk=pk
        )
        customer = get_restricted_object(request, Customer, "view", pk=customer_pk)
        context = {
            "title": f"Is {customer.name} in {group}?",
            "group": group,
            "customer": customer,
            "result": None,
            "error": "",
        }
        try:
            context["result"] = dynamic_group_explain(group, customer, user=request.user)
        except SegmentError as exc:
            context["error"] = exc.message
        return TemplateResponse(request, "groups/explain.html", context)
