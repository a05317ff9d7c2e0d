"""Group sets and the groups inside them.

A set is single-choice (a customer is in at most one of its groups) or
multi-choice. Groups form a tree inside their set; `path` holds the ids from
the root ("/3/7/12/") so "this group and everything below it" is one indexed
prefix match.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import ColourField, DisplayClassField, check_unique_name
from patron.core.models import PatronModel, RestrictedQuerySet


class GroupSet(PatronModel):
    """A family of groups with one membership rule (single- or multi-choice)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    single_choice = models.BooleanField(
        default=True,
        help_text="A customer may be in at most one group of this set.",
    )
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "group set"
        constraints = [models.UniqueConstraint(Lower("name"), name="groupset_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("groups:set_edit", args=[self.pk])

    @property
    def kind_label(self) -> str:
        return "Single choice" if self.single_choice else "Multiple choice"

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self, label="group set")


class GroupQuerySet(RestrictedQuerySet):
    _with_ancestor_names = False

    def with_ancestor_names(self):
        """Rows come with their ancestors' names, fetched in one extra query."""
        qs = self._chain()
        qs._with_ancestor_names = True
        return qs

    def _clone(self):
        clone = super()._clone()
        clone._with_ancestor_names = self._with_ancestor_names
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        rows = self._result_cache
        if self._with_ancestor_names and not fetched and rows and isinstance(rows[0], Group):
            attach_ancestor_names(rows)

    def active(self):
        return self.filter(archived=False)

    def subtree_of(self, group):
        """`group` and all its descendants."""
        return self.filter(path__startswith=group.path)


class Group(PatronModel):
    """A named set of customers inside a group set (e.g. Europe > UK > London).

    A *static* group has members added and removed by hand (GroupMembership).
    A *dynamic* group has a `segment`: its members are whoever that saved
    segment selects right now; nobody is added to it by hand, and it lives
    in a multiple-choice set because a live segment cannot promise the
    one-group rule of a single-choice set.
    """

    group_set = models.ForeignKey(GroupSet, on_delete=models.PROTECT, related_name="groups")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    colour = ColourField("#6f42c1")
    display_class = DisplayClassField()
    position = models.PositiveIntegerField(default=100)
    personal_customers = models.BooleanField(
        default=False,
        help_text="Members are private persons whose data is handled under data-protection rules.",
    )
    reseller = models.BooleanField(
        default=False, help_text="Members sell services on to their own customers."
    )
    payment_group = models.BooleanField(
        default=False,
        help_text="Payments can be taken for the whole group; a customer is in at most one.",
    )
    apply_member_credits = models.BooleanField(
        "apply members' credits first",
        default=False,
        help_text="A payment group only: a group payment first applies each member's own "
        "held credit to its open invoices (off: members' credits wait, docs/payments.md).",
    )
    archived = models.BooleanField(default=False)
    was_used = models.BooleanField(
        default=False,
        editable=False,
        help_text="Set once the group has had members; such a group can be archived, not deleted.",
    )
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dynamic_groups",
        help_text="Makes this a dynamic group: its members are whoever the saved segment "
        "selects, live. Leave empty for a group whose members are added by hand.",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["group_set__position", "path"]
        constraints = [models.UniqueConstraint(Lower("name"), name="group_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("groups:detail", args=[self.pk])

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent, read from `path`."""
        return [int(p) for p in self.path.strip("/").split("/") if p][:-1]

    @property
    def ancestor_names(self) -> list[str]:
        """Names from the root down to the parent; one query unless already attached
        (see `attach_ancestor_names`, which list pages use to stay at one query)."""
        cached = getattr(self, "_ancestor_names", None)
        if cached is not None:
            return cached
        ids = self.ancestor_ids
        names = dict(Group.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        self._ancestor_names = [names.get(i, "?") for i in ids]
        return self._ancestor_names

    @property
    def full_name(self) -> str:
        """The name with its ancestors, e.g. "Europe › UK › London"."""
        return " › ".join([*self.ancestor_names, self.name])

    @property
    def is_dynamic(self) -> bool:
        return self.segment_id is not None

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self)
        if self.segment_id is not None:
            self._clean_dynamic()
        if self.parent_id is not None:
            parent = self.parent
            if self.group_set_id and parent.group_set_id != self.group_set_id:
                raise ValidationError(
                    {"parent": f"The parent group “{parent}” belongs to another group set."}
                )
            if self.pk and (parent.pk == self.pk or parent.path.startswith(self.path)):
                raise ValidationError(
                    {"parent": "A group cannot be placed under itself or one of its subgroups."}
                )

    def _clean_dynamic(self):
        from patron.customers.models import GroupMembership

        if self.group_set_id and self.group_set.single_choice:
            raise ValidationError(
                {
                    "segment": f"A dynamic group cannot be in the single-choice set "
                    f"“{self.group_set}”: its members come from a segment, which cannot promise "
                    "one group per customer. Choose a multiple-choice set."
                }
            )
        if self.payment_group:
            raise ValidationError({"segment": "A payment group cannot be dynamic."})
        if self.pk and GroupMembership.objects.filter(group_id=self.pk).exists():
            raise ValidationError(
                {
                    "segment": "This group has members added by hand; remove them before "
                    "making its membership come from a segment."
                }
            )


def attach_ancestor_names(groups) -> None:
    """Give each group its ancestors' names with one query for the whole page."""
    groups = list(groups)
    ids = {i for g in groups for i in g.ancestor_ids}
    names = dict(Group.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for group in groups:
        group._ancestor_names = [names.get(i, "?") for i in group.ancestor_ids]


class DynamicGroupMember(models.Model):
    """A customer who was in a dynamic group when the scheduler last looked.

    Only the scheduler writes these rows; they are the memory it compares the
    live segment against to log who entered and who left
    (`DynamicGroupChange`). Who is in the group *now* is always the live
    segment, never this table.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "customer"], name="dynamic_member_unique")
        ]

    def __str__(self):
        return f"{self.customer_id} in {self.group_id}"


class DynamicGroupChange(models.Model):
    """A customer entering or leaving a dynamic group, as seen by the scheduler (SEG-5)."""

    class Kind(models.TextChoices):
        ENTERED = "entered", "Entered"
        LEFT = "left", "Left"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="dynamic_changes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["group", "-at"], name="dynamic_change_group_at"),
            models.Index(fields=["customer", "-at"], name="dynamic_change_customer_at"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.kind} {self.group_id}"


class DynamicGroupSnapshot(models.Model):
    """The members of a dynamic group frozen at the moment someone acted on it (ORG-5).

    A bulk action or job on a dynamic group works on `customer_ids`, so
    customers who match the segment a minute later are not swept in, and the
    record shows exactly whom the action was meant for.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="snapshots")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    query = models.TextField(help_text="The segment's query at the time.")
    customer_ids = models.JSONField(default=list)
    count = models.PositiveIntegerField(default=0)
    taken = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken", "-id"]

    def __str__(self):
        return f"{self.group} at {self.taken:%Y-%m-%d %H:%M} ({self.count})"
