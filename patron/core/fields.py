"""Small shared model pieces for the configuration lists."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as #RRGGBB, for example #1f6feb."
)
css_class_validator = RegexValidator(
    r"^[A-Za-z0-9_\- ]*$", "Use letters, digits, hyphens, underscores and spaces only."
)


def check_unique_name(instance, field: str = "name", queryset=None, label: str | None = None):
    """Refuse a name another row already has in any letter case."""
    value = getattr(instance, field)
    if not value:
        return
    qs = queryset if queryset is not None else type(instance)._default_manager.all()
    clash = qs.filter(**{f"{field}__iexact": value}).exclude(pk=instance.pk).first()
    if clash is not None:
        noun = label or instance._meta.verbose_name
        raise ValidationError({field: f"A {noun} named “{getattr(clash, field)}” already exists."})


def ColourField(default="#6c757d"):
    return models.CharField(max_length=7, default=default, validators=[colour_validator])


def DisplayClassField():
    return models.CharField(
        max_length=50,
        blank=True,
        validators=[css_class_validator],
        help_text="CSS class used to style this item in lists and badges.",
    )
