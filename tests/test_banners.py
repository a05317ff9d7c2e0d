"""Alert banners: rules on tag, group (with subgroups), status, class, custom value or
saved segment, shown most severe first, evaluated in a fixed number of queries."""

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
from patron.segments.models import Segment
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
        "Choose exactly one condition: a tag, a group, a status, a class, "
        "a custom field or a segment."
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


# Segment rules ----------------------------------------------------------------


def segment(owner, name, query, shared=True):
    return Segment.objects.create(name=name, query=query, owner=owner, shared=shared)


def vip_customer(actor, **kwargs):
    vip = TagFactory(name="VIP")
    customer = CustomerFactory(**kwargs)
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[vip])
    return customer


def test_segment_rule_shows_on_selected_customer_only(actor, owner, client):
    """A rule on a saved segment shows on the customers the segment selects, on the
    overview page too, and not on others."""
    selected = vip_customer(actor)
    other = CustomerFactory()
    vips = segment(owner, "VIPs", "tag:VIP")
    rule(actor, "Big spender", severity="danger", segment=vips)
    rule(actor, "Everyone", segment=segment(owner, "All", ""))
    assert names(selected) == ["Big spender", "Everyone"]
    assert names(other) == ["Everyone"]
    assert BannerRule.objects.get(name="Big spender").condition_label == "Segment VIPs"
    client.force_login(owner)
    html = client.get(reverse("customers:detail", args=[selected.pk])).content.decode()
    assert "Big spender message" in html
    html = client.get(reverse("customers:detail", args=[other.pk])).content.decode()
    assert "Big spender message" not in html
    assert "Everyone message" in html


def test_segment_rule_leaves_archived_customers_out_as_the_segment_does(actor, owner):
    """The segment means what its own count means: archived accounts only when the
    query mentions `archived`."""
    customer = vip_customer(actor, archived=True)
    rule(actor, "Live VIP", segment=segment(owner, "VIPs", "tag:VIP"))
    rule(actor, "Any VIP", segment=segment(owner, "All VIPs", "tag:VIP and archived:any"))
    assert names(customer) == ["Any VIP"]


def test_segment_rule_does_not_depend_on_the_segment_owner(actor, staff):
    """A private segment of someone else still selects the same customers: the
    rule is compiled with every name visible, not as its owner or the viewer."""
    customer = vip_customer(actor)
    private = segment(staff, "Sam's VIPs", "tag:VIP", shared=False)
    BannerRule.objects.create(name="Sam", message="x", segment=private)
    assert names(customer) == ["Sam"]


def test_segment_is_one_of_the_exactly_one_conditions(actor, owner):
    TagFactory(name="VIP")
    vips = segment(owner, "VIPs", "tag:VIP")
    with pytest.raises(ValidationError) as exc:
        rule(actor, "Two", tag=TagFactory(), segment=vips)
    assert exc.value.messages == [
        "Choose exactly one condition: a tag, a group, a status, a class, "
        "a custom field or a segment."
    ]
    assert not BannerRule.objects.exists()
    banner = rule(actor, "Moves", tag=TagFactory(name="Gold"))
    banner = banner_rule_update(actor=actor, rule=banner, data={"segment": vips})
    assert (banner.tag_id, banner.segment_id) == (None, vips.pk)


def test_segment_that_cannot_run_is_refused(actor, owner):
    """A segment whose query no longer compiles cannot be given to a rule."""
    broken = segment(owner, "Old VIPs", "tag:Gone")
    with pytest.raises(ValidationError) as exc:
        rule(actor, "Broken", segment=broken)
    assert exc.value.message_dict == {
        "segment": [
            "The segment “Old VIPs” cannot run (unknown tag 'Gone' at column 5); "
            "fix its query first."
        ]
    }
    assert not BannerRule.objects.exists()


def test_broken_segment_matches_nobody_and_keeps_the_overview_working(actor, owner, client):
    """When a tag a segment names is deleted, its rule stops matching; the other
    banners and the overview page carry on."""
    from patron.tags.services import tag_delete

    customer = vip_customer(actor)
    gold = TagFactory(name="Gold")
    customer_services.customer_tags_set(
        actor=actor, customer=customer, tags=[*customer.tags.all(), gold]
    )
    rule(actor, "Gold", segment=segment(owner, "Gold", "tag:Gold"))
    rule(actor, "VIP", severity="warning", segment=segment(owner, "VIPs", "tag:VIP"))
    assert names(customer) == ["VIP", "Gold"]
    tag_delete(actor=actor, tag=gold)
    assert names(customer) == ["VIP"]
    client.force_login(owner)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    assert [b.name for b in response.context["banners"]] == ["VIP"]


def test_deleting_the_segment_empties_the_rule(actor, owner):
    from patron.segments.services import segment_delete

    customer = vip_customer(actor)
    vips = segment(owner, "VIPs", "tag:VIP")
    banner = rule(actor, "Gone", segment=vips)
    segment_delete(actor=actor, segment=vips)
    banner.refresh_from_db()
    assert banner.segment_id is None
    assert banner.condition_label == "No condition (never shown)"
    assert names(customer) == []


@pytest.mark.parametrize("with_segments", [False, True])
def test_segment_rules_cost_the_same_queries_for_one_or_four(actor, owner, with_segments):
    """One segment rule or four (plus other kinds of rule): the same number of queries,
    and exactly one query when no rule uses a segment."""
    customer = vip_customer(actor)
    status = customer.status.name
    queries = [
        f'tag:VIP and status:"{status}"',
        "tag:VIP or tag:Gold",
        f'not tag:Gold and not status:"{status}"',
        "not tag:VIP",
    ]
    gold = TagFactory(name="Gold")
    rule(actor, "Status", status=customer.status)
    rule(actor, "Gold tag", tag=gold)

    def count():
        customer.refresh_from_db()
        with CaptureQueriesContext(connection) as captured:
            shown = [r.name for r in banners_for(customer)]
        return len(captured), shown

    if not with_segments:
        assert count() == (1, ["Status"])
        return
    rule(actor, "Segment 0", segment=segment(owner, "S0", queries[0]))
    one, shown = count()
    assert shown == ["Segment 0", "Status"]
    for n in range(1, 4):
        rule(actor, f"Segment {n}", segment=segment(owner, f"S{n}", queries[n]))
    four, shown = count()
    assert shown == ["Segment 0", "Segment 1", "Status"]
    assert four == one
    # The rules, the names the segments use (tags, statuses), the customer row.
    assert one == 4


def test_admin_page_and_api_take_a_segment(client, admin_user, owner, staff, api):
    TagFactory(name="VIP")
    vips = segment(owner, "VIPs", "tag:VIP")
    private = segment(staff, "Sam's", "tag:VIP", shared=False)
    client.force_login(admin_user)
    form = {"name": "VIP", "message": "Careful", "severity": "info", "position": 1}
    response = client.post(reverse("banners:add"), {**form, "condition": "segment"})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "segment": ["Choose the segment this banner is for."]
    }
    response = client.post(
        reverse("banners:add"), {**form, "condition": "segment", "segment": private.pk}
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["segment"]
    broken = segment(owner, "Broken", "tag:Gone")
    response = client.post(
        reverse("banners:add"), {**form, "condition": "segment", "segment": broken.pk}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "segment": [
            "The segment “Broken” cannot run (unknown tag 'Gone' at column 5); fix its query first."
        ]
    }
    response = client.post(
        reverse("banners:add"),
        {**form, "condition": "segment", "segment": vips.pk, "tag": TagFactory().pk},
    )
    assert response.status_code == 302
    banner = BannerRule.objects.get()
    assert (banner.segment_id, banner.tag_id) == (vips.pk, None)
    response = client.get(reverse("banners:list"))
    assert [cells[2] for _obj, cells in response.context["rows"]] == ["Segment VIPs"]

    response = api["admin"].post(
        "/api/banners/", {"name": "API", "message": "x", "segment": vips.pk}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["segment"], response.json()["condition"]) == (vips.pk, "Segment VIPs")
    response = api["admin"].post(
        "/api/banners/",
        {"name": "Two", "message": "x", "segment": vips.pk, "tag": TagFactory(name="T2").pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    response = api["admin"].post(
        "/api/banners/", {"name": "Hidden", "message": "x", "segment": private.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["segment"]
    assert BannerRule.objects.count() == 2
