"""Writes for alert banner rules (Owners and Administrators)."""

from patron.banners.models import CONDITION_FIELDS, BannerRule
from patron.core.actor import Actor
from patron.core.services import simple_create, simple_delete, simple_update


def _one_condition(data: dict) -> dict:
    """Giving one condition replaces the others, so a rule never holds two."""
    given = [f for f in CONDITION_FIELDS if data.get(f) is not None]
    if len(given) == 1:
        data = {**dict.fromkeys(CONDITION_FIELDS), **data}
        if given[0] != "custom_field":
            data["custom_value"] = ""
    return data


def banner_rule_create(*, actor: Actor, data: dict) -> BannerRule:
    return simple_create(actor=actor, model=BannerRule, data=data)


def banner_rule_update(
    *, actor: Actor, rule: BannerRule, data: dict, expected_version: int | None = None
) -> BannerRule:
    return simple_update(
        actor=actor, instance=rule, data=_one_condition(data), expected_version=expected_version
    )


def banner_rule_delete(*, actor: Actor, rule: BannerRule) -> None:
    simple_delete(actor=actor, instance=rule)
