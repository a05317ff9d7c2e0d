"""Alert banners: rules on tag, group (with subgroups), status, class or custom value,
shown most severe first, all evaluated in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.banners.models import BannerRule
from patron.banners.overview import banners_for
from patron.banners.services import banner_rule_create, banner_rule_delete, banner_rule_update
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers import services as customer_services
from patron.customfields.services import custom_field_create, customer_custom_fields_set
from patron.groups.models import GroupSet
from tests.factories import (
    CustomerClassFactory,
    CustomerFactory,
    GroupFactory,
    StatusFactory,
    TagFactory,
)
from tests.test_customfields import issue4_roles  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles(issue4_roles):  # noqa: F811
    return None


def rule(actor, name, severity="info", position=100, **condition):
    return banner_rule_create(
        actor=actor,
        data={
            "name": name,
            "message": f"{name} message",
            "severity": severity,
            "position": position,
            **condition,
        },
    )


def names(customer):
    return [r.name for r in banners_for(customer)]


def test_tag_rule_shows_on_tagged_customer_only(actor):
    """A banner rule on a tag appears for a customer with the tag and not for another."""
    vip = TagFactory(name="VIP")
    tagged, other = CustomerFactory(), CustomerFactory()
    customer_services.customer_tags_set(actor=actor, customer=tagged, tags=[vip])
    rule(actor, "VIP customer", severity="warning", tag=vip)
    assert names(tagged) == ["VIP customer"]
    assert names(other) == []


def test_group_rule_covers_subgroups(actor):
    regions = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=regions, name="North")
    leeds = GroupFactory(group_set=regions, name="Leeds", parent=north)
    south = GroupFactory(group_set=regions, name="South")
    in_leeds, in_north, in_south = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customer_services.customer_groups_set(actor=actor, customer=in_leeds, groups=[leeds])
    customer_services.customer_groups_set(actor=actor, customer=in_north, groups=[north])
    customer_services.customer_groups_set(actor=actor, customer=in_south, groups=[south])
    rule(actor, "Northern outage", group=north)
    rule(actor, "Leeds only", group=leeds)
    assert names(in_leeds) == ["Leeds only", "Northern outage"]
    assert names(in_north) == ["Northern outage"]
    assert names(in_south) == []


def test_status_class_and_custom_field_rules(actor):
    suspended = StatusFactory(name="On hold")
    business = CustomerClassFactory(name="Business")
    field = custom_field_create(actor=actor, data={"label": "Contract end", "field_type": "date"})
    flag = custom_field_create(actor=actor, data={"label": "Fraud check", "field_type": "boolean"})
    customer = CustomerFactory(status=suspended, customer_class=business)
    other = CustomerFactory()
    customer = customer_custom_fields_set(
        actor=actor,
        customer=customer,
        values={"contract_end": "2026-03-31", "fraud_check": "yes"},
    )
    other = customer_custom_fields_set(
        actor=actor, customer=other, values={"contract_end": "2027-01-01", "fraud_check": False}
    )
    rule(actor, "On hold", status=suspended)
    rule(actor, "Business", customer_class=business)
    rule(actor, "Ends March", custom_field=field, custom_value="2026-03-31")
    rule(actor, "Check fraud", custom_field=flag, custom_value="Yes")
    assert BannerRule.objects.get(name="Check fraud").custom_value == "true"
    assert names(customer) == ["Business", "Check fraud", "Ends March", "On hold"]
    assert names(other) == []


def test_order_is_danger_warning_info_then_position(actor):
    tag = TagFactory()
    customer = CustomerFactory()
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    rule(actor, "Info 1", "info", 1, tag=tag)
    rule(actor, "Warning 2", "warning", 2, tag=tag)
    rule(actor, "Danger 5", "danger", 5, tag=tag)
    rule(actor, "Warning 1", "warning", 1, tag=tag)
    rule(actor, "Danger 3", "danger", 3, tag=tag)
    assert names(customer) == ["Danger 3", "Danger 5", "Warning 1", "Warning 2", "Info 1"]


def test_inactive_rules_are_not_shown(actor):
    tag = TagFactory()
    customer = CustomerFactory()
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    banner = rule(actor, "Old", tag=tag)
    banner_rule_update(actor=actor, rule=banner, data={"active": False})
    assert names(customer) == []


@pytest.mark.parametrize("count", [1, 10])
def test_banners_are_evaluated_in_one_query(actor, count):
    """One query whatever the number of rules and kinds of condition."""
    regions = GroupSet.objects.create(name="Region", single_choice=False)
    group = GroupFactory(group_set=regions)
    tag = TagFactory()
    field = custom_field_create(actor=actor, data={"label": "Plan", "field_type": "text"})
    customer = CustomerFactory(custom_fields={"plan": "Pro"})
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    customer_services.customer_groups_set(actor=actor, customer=customer, groups=[group])
    kinds = [
        {"tag": tag},
        {"group": group},
        {"status": customer.status},
        {"custom_field": field, "custom_value": "pro"},
        {"customer_class": CustomerClassFactory()},
    ]
    for n in range(count):
        rule(actor, f"Rule {n:02d}", **kinds[n % len(kinds)])
    customer.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        shown = banners_for(customer)
    assert len(queries) == 1
    # Every kind matches except the class rules (the customer has no class).
    assert len(shown) == count - count // 5


def test_rule_needs_exactly_one_condition(actor):
    tag = TagFactory()
    with pytest.raises(ValidationError) as exc:
        rule(actor, "None")
    assert exc.value.messages == [
        "Choose exactly one condition: a tag, a group, a status, a class or a custom field."
    ]
    with pytest.raises(ValidationError):
        rule(actor, "Two", tag=tag, status=StatusFactory())
    assert not BannerRule.objects.exists()


def test_custom_value_is_checked_against_the_field_type(actor):
    field = custom_field_create(actor=actor, data={"label": "Contract end", "field_type": "date"})
    with pytest.raises(ValidationError) as exc:
        rule(actor, "Bad", custom_field=field, custom_value="soon")
    assert exc.value.message_dict == {
        "custom_value": ["Contract end must be a date like 2026-03-31."]
    }
    assert not BannerRule.objects.exists()


def test_updating_the_condition_replaces_the_old_one(actor):
    tag = TagFactory()
    status = StatusFactory()
    banner = rule(actor, "Moves", tag=tag)
    banner = banner_rule_update(actor=actor, rule=banner, data={"status": status})
    assert (banner.tag_id, banner.status_id) == (None, status.pk)


def test_deleting_the_tag_empties_the_rule(actor):
    from patron.tags.services import tag_delete

    tag = TagFactory()
    customer = CustomerFactory()
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    banner = rule(actor, "Gone", tag=tag)
    tag_delete(actor=actor, tag=tag)
    banner.refresh_from_db()
    assert banner.condition_label == "No condition (never shown)"
    assert names(customer) == []


def test_only_admins_manage_rules(staff, admin_user):
    tag = TagFactory()
    with pytest.raises(PermissionDenied):
        rule(Actor(user=staff), "Nope", tag=tag)
    assert not BannerRule.objects.exists()
    banner = rule(Actor(user=admin_user), "Yes", tag=tag)
    with pytest.raises(PermissionDenied):
        banner_rule_delete(actor=Actor(user=staff), rule=banner)
    assert BannerRule.objects.filter(pk=banner.pk).exists()


def test_partial_renders_bootstrap_alerts(actor, client, owner):
    tag = TagFactory()
    customer = CustomerFactory()
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    banner_rule_create(
        actor=actor,
        data={
            "name": "Debt",
            "message": "Owes more than 90 days",
            "severity": "danger",
            "tag": tag,
        },
    )
    client.force_login(owner)
    # The Custom tab shows the customer's banners as on the overview.
    html = client.get(reverse("customfields:customer_edit", args=[customer.pk])).content.decode()
    assert 'class="alert alert-danger' in html
    assert "Owes more than 90 days" in html


def test_admin_pages(client, admin_user, staff):
    tag = TagFactory(name="VIP")
    client.force_login(admin_user)
    response = client.post(
        reverse("banners:add"),
        {
            "name": "VIP",
            "message": "Handle with care",
            "severity": "warning",
            "position": 1,
            "active": "on",
            "condition": "tag",
            "tag": tag.pk,
        },
    )
    assert response.status_code == 302
    banner = BannerRule.objects.get()
    assert (banner.tag_id, banner.severity, banner.message) == (
        tag.pk,
        "warning",
        "Handle with care",
    )
    response = client.post(
        reverse("banners:add"),
        {"name": "No tag", "message": "x", "severity": "info", "position": 1, "condition": "tag"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"tag": ["Choose the tag this banner is for."]}
    response = client.get(reverse("banners:list"))
    assert [(obj.name, cells[2]) for obj, cells in response.context["rows"]] == [("VIP", "Tag VIP")]
    client.force_login(staff)
    assert client.get(reverse("banners:list")).status_code == 200
    assert client.post(reverse("banners:delete", args=[banner.pk])).status_code == 403
    assert BannerRule.objects.count() == 1
