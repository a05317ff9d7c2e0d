"""Saved segments: a named query staff reuse, with its live count."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.fields import check_unique_name
from patron.core.models import PatronModel, RestrictedQuerySet


class SegmentQuerySet(RestrictedQuerySet):
    def restrict_rows(self, user, action):
        """Shared segments are everyone's to use; private ones only their owner's.

        Changing or deleting needs to be the owner, or to hold
        `manage_shared_segment` for segments someone else shared.
        """
        mine = Q(owner=user)
        if action == "view":
            return self.filter(mine | Q(shared=True))
        if user.has_perm("segments.manage_shared_segment"):
            return self.filter(mine | Q(shared=True))
        return self.filter(mine)


class Segment(PatronModel):
    """A saved query in the segment language, e.g. `tag:vip and status:active`.

    Names are unique whatever their letter case. The query is checked when it
    is saved; if a tag it names is later renamed or deleted, the segment shows
    the error instead of a count until someone fixes it.
    """

    name = models.CharField(max_length=100)
    query = models.TextField(help_text="For example: tag:vip and not status:suspended")
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    shared = models.BooleanField(
        default=True, help_text="Everyone who may use segments sees it; otherwise only you."
    )

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="segment_name_ci_unique")]
        permissions = [("manage_shared_segment", "Can change and delete segments others shared")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("segments:detail", args=[self.pk])

    def clean(self):
        self.name = (self.name or "").strip()
        self.query = (self.query or "").strip()
        check_unique_name(self)
