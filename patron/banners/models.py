"""Alert banners: rules that put a coloured message on matching customers' overviews."""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from patron.core.models import PatronModel

CONDITION_FIELDS = ("tag", "group", "status", "customer_class", "custom_field", "segment")


class BannerRule(PatronModel):
    """ "Show this message on every customer with X", where X is exactly one of:
    a tag, a group (or any group below it), a status, a class, a custom
    field holding a given value, or a saved segment.

    A condition whose tag, group, status, class or segment is deleted is
    emptied and the rule stops matching until an administrator gives it a new
    one. A segment's query is read with every name visible, so the banner
    means the same whoever opens the overview; a segment whose query no
    longer compiles simply matches nobody.
    """

    class Severity(models.TextChoices):
        INFO = "info", "Information"
        WARNING = "warning", "Warning"
        DANGER = "danger", "Danger"

    # Most severe first on the overview.
    SEVERITY_ORDER = {Severity.DANGER: 0, Severity.WARNING: 1, Severity.INFO: 2}

    name = models.CharField(max_length=100, help_text="For administrators; not shown to staff.")
    message = models.CharField(max_length=300, help_text="The text of the banner.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.INFO)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(
        default=100, help_text="Order among banners of the same severity."
    )
    tag = models.ForeignKey(
        "tags.Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "groups.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Customers in this group or any group below it.",
    )
    status = models.ForeignKey(
        "statuses.Status", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_class = models.ForeignKey(
        "classes.CustomerClass",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="class",
    )
    custom_field = models.ForeignKey(
        "customfields.CustomField",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    segment = models.ForeignKey(
        "segments.Segment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Customers the saved segment selects.",
    )
    custom_value = models.CharField(
        "custom field value",
        max_length=200,
        blank=True,
        help_text="The value the custom field must hold (yes/no for yes/no fields).",
    )

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = "alert banner rule"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("banners:edit", args=[self.pk])

    @property
    def condition_label(self) -> str:
        if self.tag_id:
            return f"Tag {self.tag}"
        if self.group_id:
            return f"Group {self.group} (and below)"
        if self.status_id:
            return f"Status {self.status}"
        if self.customer_class_id:
            return f"Class {self.customer_class}"
        if self.custom_field_id:
            return f"{self.custom_field} = {self.custom_value}"
        if self.segment_id:
            return f"Segment {self.segment}"
        return "No condition (never shown)"

    def clean(self):
        from patron.customfields.values import comparable_text, parse_value

        self.name = (self.name or "").strip()
        self.message = (self.message or "").strip()
        chosen = [f for f in CONDITION_FIELDS if getattr(self, f"{f}_id")]
        if len(chosen) != 1:
            raise ValidationError(
                "Choose exactly one condition: a tag, a group, a status, a class, "
                "a custom field or a segment."
            )
        if self.segment_id:
            self._check_segment_compiles()
        if self.custom_field_id:
            try:
                value = parse_value(self.custom_field, self.custom_value)
            except ValidationError as exc:
                raise ValidationError({"custom_value": exc.messages}) from None
            if value is None:
                raise ValidationError({"custom_value": "Give the value the field must hold."})
            # Stored in the canonical text the overview compares against.
            self.custom_value = comparable_text(value)
        else:
            self.custom_value = ""

    def _check_segment_compiles(self):
        from patron.segments.language import SegmentError, compile_segment

        try:
            compile_segment(self.segment.query, user=None)
        except SegmentError as exc:
            raise ValidationError(
                {
                    "segment": f"The segment “{self.segment}” cannot run ({exc.message}); "
                    "fix its query first."
                }
            ) from None
