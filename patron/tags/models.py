"""Customer tags: free labels, any number per customer."""

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from patron.core.contrast import text_colour
from patron.core.fields import ColourField, check_unique_name
from patron.core.models import PatronModel


class Tag(PatronModel):
    """A label staff attach to customers (e.g. VIP, Fibre, Churn risk).

    Names are unique whatever their letter case.
    """

    name = models.CharField(max_length=100)
    colour = ColourField("#0d6efd")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tags:edit", args=[self.pk])

    @property
    def text_colour(self) -> str:
        """Black or white, whichever is readable on the tag's colour (WCAG AA)."""
        return text_colour(self.colour)

    def clean(self):
        self.name = (self.name or "").strip()
        check_unique_name(self)
