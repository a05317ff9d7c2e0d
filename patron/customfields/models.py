"""Custom fields: extra facts about customers that administrators define.

A `CustomField` is the definition (key, label, type, rules); the values live
on each customer in `Customer.custom_fields`, a JSON object keyed by the
field's `key`. Values are stored in JSON-native form so they compare
correctly in filters: numbers as numbers, booleans as true/false, dates as
ISO text ("2026-03-31"), text and choices as strings.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from patron.core.models import PatronModel

key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$",
    "Use lower-case letters, digits and underscores, starting with a letter (e.g. contract_end).",
)


class CustomField(PatronModel):
    """One admin-defined field shown on the customer's Custom tab.

    The key names the value in every customer's `custom_fields`, in the API
    and in filters; once a customer has a value it cannot change.
    """

    class FieldType(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        BOOLEAN = "boolean", "Yes / no"
        CHOICE = "choice", "Single choice"

    key = models.CharField(
        max_length=50,
        unique=True,
        validators=[key_validator],
        help_text="Name used in the API, filters and exports. Cannot change once used.",
    )
    label = models.CharField(max_length=100)
    help_text = models.CharField(
        max_length=200, blank=True, help_text="Shown under the field on the Custom tab."
    )
    field_type = models.CharField(
        "type", max_length=10, choices=FieldType.choices, default=FieldType.TEXT
    )
    choices = models.JSONField(
        default=list, blank=True, help_text="The values a single-choice field offers."
    )
    required = models.BooleanField(
        default=False, help_text="The Custom tab cannot be saved with this field empty."
    )
    show_on_overview = models.BooleanField(
        default=True, help_text="Show the value on the customer overview when it is set."
    )
    position = models.PositiveIntegerField(default=100)
    archived = models.BooleanField(
        default=False, help_text="Hidden from forms and the overview; existing values are kept."
    )

    class Meta:
        ordering = ["position", "label", "id"]
        verbose_name = "custom field"

    def __str__(self):
        return self.label

    def get_absolute_url(self):
        return reverse("customfields:edit", args=[self.pk])

    @property
    def is_choice(self) -> bool:
        return self.field_type == self.FieldType.CHOICE
