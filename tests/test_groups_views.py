"""Group set and group pages through the Django test client."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.customers.services import customer_groups_set
from patron.groups.models import Group, GroupSet
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


def list_names(response):
    return [obj.name for obj, _ in response.context["rows"]]


def test_pages_need_sign_in(client):
    group = GroupFactory()
    for url in (reverse("groups:list"), reverse("groups:detail", args=[group.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_every_role_views_the_lists(login, role):
    """Lists are visible to all; only Owners and Administrators get the add button."""
    GroupFactory(name="Europe")
    client = login(role)
    groups = client.get(reverse("groups:list"))
    sets = client.get(reverse("groups:set_list"))
    assert (groups.status_code, sets.status_code) == (200, 200)
    assert list_names(groups) == ["Europe"]
    manager = role in {"owner", "admin"}
    assert bool(groups.context["add_url"]) is manager
    assert (b"Add group" in groups.content) is manager
    assert (b">Edit<" in sets.content) is manager


def test_group_list_shows_tree_set_type_counts_and_flags(login, actor):
    regions = GroupSetFactory(name="Regions", single_choice=False)
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe, payment_group=True)
    london = GroupFactory(group_set=regions, name="London", parent=uk)
    for _ in range(2):
        customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[london])
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[uk])
    response = login("staff").get(reverse("groups:list"), {"group_set": regions.pk})
    assert response.status_code == 200
    assert list_names(response) == ["Europe", "UK", "London"]
    by_name = {obj.name: obj for obj, _ in response.context["rows"]}
    assert {n: g.member_count for n, g in by_name.items()} == {"Europe": 0, "UK": 1, "London": 2}
    html = response.content.decode()
    assert "Europe › UK ›" in html
    assert "padding-left: 3.0rem" in html
    assert "Multiple choice" in html
    assert "Payment" in html


def test_group_list_hides_archived_unless_asked(login):
    GroupFactory(name="Current")
    GroupFactory(name="Old promo", archived=True)
    client = login("admin")
    assert list_names(client.get(reverse("groups:list"))) == ["Current"]
    archived = client.get(reverse("groups:list"), {"archived": "archived"})
    assert list_names(archived) == ["Old promo"]
    assert b"Archived" in archived.content
    assert sorted(list_names(client.get(reverse("groups:list"), {"archived": "all"}))) == [
        "Current",
        "Old promo",
    ]


def test_group_list_query_count_does_not_grow_with_groups_and_members(login, actor):
    """The list page costs the same number of queries for 1 group as for 10 with members."""
    client = login("owner")
    regions = GroupSetFactory(name="Regions")
    europe = GroupFactory(group_set=regions, name="Europe")

    def add_leaf(n):
        leaf = GroupFactory(group_set=regions, name=f"Leaf {n}", parent=europe, reseller=True)
        for _ in range(2):
            customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[leaf])

    add_leaf(0)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("groups:list")).status_code == 200
    for n in range(1, 10):
        add_leaf(n)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(reverse("groups:list"))
    assert len(response.context["rows"]) == 11
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_detail_shows_details_subgroups_and_paged_members(login, actor, monkeypatch):
    monkeypatch.setattr("patron.groups.views.MEMBERS_PER_PAGE", 2)
    regions = GroupSetFactory(name="Regions", single_choice=False)
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe, description="Great Britain")
    GroupFactory(group_set=regions, name="London", parent=uk)
    members = [CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat")]
    for customer in members:
        customer_groups_set(actor=actor, customer=customer, groups=[uk])
    client = login("readonly")
    response = client.get(reverse("groups:detail", args=[uk.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert [c.name for c in response.context["members_page"]] == ["Ann", "Bob"]
    assert response.context["member_count"] == 3
    assert f'href="{members[0].get_absolute_url()}"' in html
    assert [g.name for g in response.context["subgroups"]] == ["London"]
    assert [g.name for g in response.context["ancestors"]] == ["Europe"]
    assert "Great Britain" in html
    # Read-only users see the page but no buttons that change the group.
    assert reverse("groups:edit", args=[uk.pk]) not in html
    assert reverse("groups:archive", args=[uk.pk]) not in html
    page2 = client.get(reverse("groups:detail", args=[uk.pk]), {"page": 2})
    assert [c.name for c in page2.context["members_page"]] == ["Cat"]


def test_detail_can_include_members_of_subgroups(login, actor):
    europe = GroupFactory(name="Europe")
    uk = GroupFactory(group_set=europe.group_set, name="UK", parent=europe)
    customer_groups_set(actor=actor, customer=CustomerFactory(name="Dan"), groups=[uk])
    client = login("owner")
    url = reverse("groups:detail", args=[europe.pk])
    assert list(client.get(url).context["members_page"]) == []
    with_subgroups = client.get(url, {"subgroups": "1"})
    assert [c.name for c in with_subgroups.context["members_page"]] == ["Dan"]
    html = with_subgroups.content.decode()
    for name in ("groups:edit", "groups:archive", "groups:delete"):
        assert reverse(name, args=[europe.pk]) in html


def test_owner_creates_a_subgroup_through_the_form(login):
    regions = GroupSetFactory(name="Regions")
    europe = GroupFactory(group_set=regions, name="Europe")
    client = login("owner")
    form = client.get(reverse("groups:add"), {"parent": europe.pk})
    assert form.status_code == 200
    assert form.context["form"].initial == {"parent": europe.pk, "group_set": regions.pk}
    response = client.post(
        reverse("groups:add"),
        {
            "group_set": regions.pk,
            "parent": europe.pk,
            "name": "UK",
            "colour": "#112233",
            "position": 5,
            "payment_group": "on",
        },
    )
    uk = Group.objects.get(name="UK")
    assert response.status_code == 302
    assert response["Location"] == reverse("groups:detail", args=[uk.pk])
    assert (uk.path, uk.colour, uk.payment_group, uk.reseller) == (
        f"/{europe.pk}/{uk.pk}/",
        "#112233",
        True,
        False,
    )


def test_form_shows_duplicate_name_and_foreign_parent_errors(login):
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    client = login("admin")
    data = {"group_set": plans.pk, "name": "europe", "colour": "#112233", "position": 1}
    response = client.post(reverse("groups:add"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["A group named “Europe” already exists."]
    data.update(name="Fibre", parent=europe.pk)
    response = client.post(reverse("groups:add"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [
        "The parent group “Europe” belongs to another group set."
    ]
    assert list(Group.objects.values_list("name", flat=True)) == ["Europe"]


def test_edit_form_refuses_moving_a_group_with_members_to_another_set(login, actor):
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    group = GroupFactory(group_set=regions, name="North")
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[group])
    client = login("owner")
    form = client.get(reverse("groups:edit", args=[group.pk]))
    assert form.context["form"].fields["group_set"].help_text == (
        "This group has members, so it stays in its set."
    )
    response = client.post(
        reverse("groups:edit", args=[group.pk]),
        {
            "group_set": plans.pk,
            "name": "North",
            "colour": "#112233",
            "position": 1,
            "version": group.version,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["group_set"] == [
        "A group with members cannot move to another group set."
    ]
    group.refresh_from_db()
    assert group.group_set == regions


def test_edit_form_parent_choices_leave_out_the_group_and_its_subtree(login):
    europe = GroupFactory(name="Europe")
    uk = GroupFactory(group_set=europe.group_set, name="UK", parent=europe)
    other = GroupFactory(name="Other")
    form = login("owner").get(reverse("groups:edit", args=[europe.pk])).context["form"]
    assert set(form.fields["parent"].queryset) == {other}
    assert uk.pk


def test_stale_form_is_refused_with_a_conflict_message(login, actor):
    group = GroupFactory(name="Before")
    client = login("owner")
    data = {"group_set": group.group_set_id, "name": "Mine", "colour": "#112233"}
    data.update(position=1, version=1)
    from patron.groups.services import group_update

    group_update(actor=actor, group=group, data={"name": "Theirs"})
    response = client.post(reverse("groups:edit", args=[group.pk]), data)
    assert response.status_code == 409
    assert "was changed by someone else" in response.content.decode()
    group.refresh_from_db()
    assert group.name == "Theirs"


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_use_the_write_pages(login, role):
    group = GroupFactory(name="Keep")
    client = login(role)
    for name, args in [
        ("groups:add", []),
        ("groups:edit", [group.pk]),
        ("groups:delete", [group.pk]),
        ("groups:set_add", []),
        ("groups:set_edit", [group.group_set_id]),
        ("groups:set_delete", [group.group_set_id]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403
    assert client.post(reverse("groups:delete", args=[group.pk])).status_code == 403
    assert client.post(reverse("groups:archive", args=[group.pk])).status_code == 403
    group.refresh_from_db()
    assert (group.name, group.archived, group.version) == ("Keep", False, 1)


def test_used_group_delete_is_refused_and_archive_is_offered(login, actor):
    group = GroupFactory(name="Spring promo")
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[group])
    client = login("admin")
    message = "“Spring promo” has had members, so it is kept for their history: archive it instead."
    page = client.get(reverse("groups:delete", args=[group.pk]))
    assert page.context["refusal"] == message
    assert page.context["archive_url"] == reverse("groups:archive", args=[group.pk])
    response = client.post(reverse("groups:delete", args=[group.pk]))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Group.objects.filter(pk=group.pk).exists()
    archived = client.post(reverse("groups:archive", args=[group.pk]))
    assert archived.status_code == 302
    group.refresh_from_db()
    assert group.archived is True
    client.post(reverse("groups:archive", args=[group.pk]))
    group.refresh_from_db()
    assert group.archived is False


def test_unused_group_is_deleted_from_its_page(login):
    group = GroupFactory(name="Typo")
    client = login("owner")
    assert client.get(reverse("groups:delete", args=[group.pk])).context["refusal"] is None
    response = client.post(reverse("groups:delete", args=[group.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("groups:list")
    assert not Group.objects.filter(pk=group.pk).exists()


def test_group_set_pages(login, actor):
    client = login("admin")
    response = client.post(
        reverse("groups:set_add"), {"name": "Interests", "position": 5, "description": ""}
    )
    assert response.status_code == 302
    interests = GroupSet.objects.get(name="Interests")
    assert interests.single_choice is False
    a, b = GroupFactory(group_set=interests), GroupFactory(group_set=interests)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[a, b])
    response = client.post(
        reverse("groups:set_edit", args=[interests.pk]),
        {"name": "Interests", "position": 5, "single_choice": "on", "version": 1},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["single_choice"] == [
        "1 customer(s) are in more than one group of “Interests”; leave each in one group "
        "before making it single-choice."
    ]
    listing = client.get(reverse("groups:set_list"))
    counts = {obj.name: obj.group_count for obj, _ in listing.context["rows"]}
    assert counts == {"Customer group": 0, "Interests": 2}
    refused = client.post(reverse("groups:set_delete", args=[interests.pk]))
    assert refused.status_code == 400
    assert refused.context["refusal"] == (
        "“Interests” still has 2 group(s); delete or move them first."
    )
    empty = GroupSetFactory(name="Empty")
    assert client.post(reverse("groups:set_delete", args=[empty.pk])).status_code == 302
    assert not GroupSet.objects.filter(pk=empty.pk).exists()
