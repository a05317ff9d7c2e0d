"""Group sets and groups: names, set rules, the tree, archive and delete (ORG-3, ORG-4, ORG-8)."""

import pytest

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import GroupMembership
from patron.customers.services import customer_groups_set
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.groups.services import (
    group_archive,
    group_create,
    group_delete,
    group_set_create,
    group_set_delete,
    group_set_update,
    group_update,
)
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

pytestmark = pytest.mark.django_db


def paths(*groups):
    return [Group.objects.get(pk=g.pk).path for g in groups]


def test_new_installation_has_one_single_choice_set():
    """A fresh database holds the single-choice set "Customer group"."""
    assert list(GroupSet.objects.values_list("name", "single_choice")) == [("Customer group", True)]


def test_duplicate_group_name_in_another_case_is_refused(actor):
    """A group name is unique whatever its letter case, across sets; nothing is written."""
    first, second = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    group_create(actor=actor, data={"name": "London Region", "group_set": first})
    with pytest.raises(ValidationError) as exc:
        group_create(actor=actor, data={"name": "london region", "group_set": second})
    assert exc.value.message_dict == {"name": ["A group named “London Region” already exists."]}
    assert list(Group.objects.values_list("name", flat=True)) == ["London Region"]


def test_duplicate_group_set_name_in_another_case_is_refused(actor):
    """Set names are unique whatever their letter case."""
    with pytest.raises(ValidationError) as exc:
        group_set_create(actor=actor, data={"name": "customer GROUP"})
    assert exc.value.message_dict == {
        "name": ["A group set named “Customer group” already exists."]
    }
    assert GroupSet.objects.count() == 1


def test_create_sets_path_depth_and_logs(actor):
    """A new group gets its tree path under its parent and an event with its fields."""
    regions = GroupSetFactory(name="Regions")
    europe = group_create(actor=actor, data={"name": "Europe", "group_set": regions})
    uk = group_create(actor=actor, data={"name": "UK", "group_set": regions, "parent": europe})
    london = group_create(actor=actor, data={"name": "London", "parent": uk})
    assert (europe.path, europe.depth) == (f"/{europe.pk}/", 0)
    assert (london.path, london.depth) == (f"/{europe.pk}/{uk.pk}/{london.pk}/", 2)
    assert london.group_set == regions
    assert Group.objects.get(pk=london.pk).full_name == "Europe › UK › London"
    event = Event.objects.get(action="created", message="Created group London")
    assert event.changes["name"] == [None, "London"]


def test_single_choice_switch_refused_while_a_customer_holds_two_groups(actor):
    """Making a multi-choice set single-choice is refused while anyone holds two of its groups."""
    interests = GroupSetFactory(name="Interests", single_choice=False)
    sport, music = GroupFactory(group_set=interests), GroupFactory(group_set=interests)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[sport, music])
    with pytest.raises(ValidationError) as exc:
        group_set_update(actor=actor, group_set=interests, data={"single_choice": True})
    assert exc.value.message_dict == {
        "single_choice": [
            "1 customer(s) are in more than one group of “Interests”; leave each in one "
            "group before making it single-choice."
        ]
    }
    interests.refresh_from_db()
    assert (interests.single_choice, interests.version) == (False, 1)


def test_single_choice_switch_marks_memberships_exclusive(actor):
    """Once no customer holds two groups, the switch applies and memberships become exclusive."""
    interests = GroupSetFactory(name="Interests", single_choice=False)
    sport = GroupFactory(group_set=interests)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[sport])
    assert list(GroupMembership.objects.values_list("exclusive", flat=True)) == [False]
    group_set_update(actor=actor, group_set=interests, data={"single_choice": True})
    assert list(GroupMembership.objects.values_list("exclusive", flat=True)) == [True]


def test_moving_a_group_moves_its_subtree(actor):
    """A new parent rewrites the path and depth of the group and everything below it."""
    regions = GroupSetFactory()
    europe = GroupFactory(group_set=regions, name="Europe")
    north = GroupFactory(group_set=regions, name="North")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    london = GroupFactory(group_set=regions, name="London", parent=uk)
    soho = GroupFactory(group_set=regions, name="Soho", parent=london)
    group_update(actor=actor, group=uk, data={"parent": north})
    assert paths(uk, london, soho) == [
        f"/{north.pk}/{uk.pk}/",
        f"/{north.pk}/{uk.pk}/{london.pk}/",
        f"/{north.pk}/{uk.pk}/{london.pk}/{soho.pk}/",
    ]
    assert [Group.objects.get(pk=g.pk).depth for g in (uk, london, soho)] == [1, 2, 3]
    group_update(actor=actor, group=Group.objects.get(pk=london.pk), data={"parent": None})
    assert paths(london, soho) == [f"/{london.pk}/", f"/{london.pk}/{soho.pk}/"]
    assert [Group.objects.get(pk=g.pk).depth for g in (london, soho)] == [0, 1]
    assert Group.objects.get(pk=soho.pk).full_name == "London › Soho"


def test_parent_from_another_set_is_refused(actor):
    """A parent must be in the same set; the error names it and nothing changes."""
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    fibre = GroupFactory(group_set=plans, name="Fibre")
    with pytest.raises(ValidationError) as exc:
        group_update(actor=actor, group=fibre, data={"parent": europe})
    assert exc.value.message_dict == {
        "parent": ["The parent group “Europe” belongs to another group set."]
    }
    with pytest.raises(ValidationError):
        group_create(actor=actor, data={"name": "Gigabit", "group_set": plans, "parent": europe})
    fibre.refresh_from_db()
    assert (fibre.parent_id, fibre.path) == (None, f"/{fibre.pk}/")
    assert not Group.objects.filter(name="Gigabit").exists()


def test_group_cannot_go_under_its_own_descendant(actor):
    """Placing a group under itself or a subgroup is refused (no cycles)."""
    regions = GroupSetFactory()
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    london = GroupFactory(group_set=regions, name="London", parent=uk)
    message = {"parent": ["A group cannot be placed under itself or one of its subgroups."]}
    for parent in (london, europe):
        with pytest.raises(ValidationError) as exc:
            group_update(actor=actor, group=europe, data={"parent": parent})
        assert exc.value.message_dict == message
    assert paths(europe, uk, london) == [
        f"/{europe.pk}/",
        f"/{europe.pk}/{uk.pk}/",
        f"/{europe.pk}/{uk.pk}/{london.pk}/",
    ]


def test_group_with_members_cannot_move_set(actor):
    """A group whose subtree has members stays in its set."""
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[uk])
    with pytest.raises(ValidationError) as exc:
        group_update(actor=actor, group=europe, data={"group_set": plans})
    assert exc.value.message_dict == {
        "group_set": ["A group with members cannot move to another group set."]
    }
    assert set(Group.objects.values_list("group_set__name", flat=True)) == {"Regions"}


def test_empty_group_moves_set_with_its_subgroups(actor):
    """An unused group moves to another set and takes its subgroups along."""
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    group_update(actor=actor, group=europe, data={"group_set": plans})
    assert list(
        Group.objects.filter(pk__in=[europe.pk, uk.pk])
        .order_by("path")
        .values_list("name", "group_set__name")
    ) == [("Europe", "Plans"), ("UK", "Plans")]


def test_used_group_cannot_be_deleted_but_can_be_archived(actor):
    """A group that has had members is kept: delete is refused, archive works (ORG-8)."""
    promo = GroupFactory(name="Spring promo")
    customer = CustomerFactory()
    customer_groups_set(actor=actor, customer=customer, groups=[promo])
    customer_groups_set(actor=actor, customer=customer, groups=[])
    promo.refresh_from_db()
    assert promo.was_used is True
    with pytest.raises(ValidationError) as exc:
        group_delete(actor=actor, group=promo)
    assert exc.value.messages == [
        "“Spring promo” has had members, so it is kept for their history: archive it instead."
    ]
    assert Group.objects.filter(pk=promo.pk).exists()
    archived = group_archive(actor=actor, group=promo)
    assert (archived.archived, archived.version) == (True, 2)
    assert Event.objects.filter(action="archived", object_id=str(promo.pk)).count() == 1
    restored = group_archive(actor=actor, group=archived, archived=False)
    assert restored.archived is False


def test_unused_group_is_deleted_and_logged(actor):
    """A group that never had members is deleted, with an event."""
    group = GroupFactory(name="Typo grup")
    group_delete(actor=actor, group=group)
    assert not Group.objects.filter(pk=group.pk).exists()
    assert Event.objects.filter(action="deleted", message="Deleted group Typo grup").count() == 1


def test_group_with_subgroups_cannot_be_deleted(actor):
    """Subgroups must go first."""
    europe = GroupFactory(name="Europe")
    GroupFactory(group_set=europe.group_set, name="UK", parent=europe)
    with pytest.raises(ValidationError) as exc:
        group_delete(actor=actor, group=europe)
    assert exc.value.messages == ["“Europe” has subgroups; delete or move them first."]
    assert Group.objects.count() == 2


def test_group_set_with_groups_cannot_be_deleted(actor):
    """A set is deleted only when empty."""
    regions = GroupSetFactory(name="Regions")
    GroupFactory(group_set=regions)
    with pytest.raises(ValidationError) as exc:
        group_set_delete(actor=actor, group_set=regions)
    assert exc.value.messages == ["“Regions” still has 1 group(s); delete or move them first."]
    empty = GroupSetFactory(name="Empty")
    group_set_delete(actor=actor, group_set=empty)
    assert list(GroupSet.objects.order_by("name").values_list("name", flat=True)) == [
        "Customer group",
        "Regions",
    ]


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_change_groups(users, role):
    """Only Owners and Administrators manage groups (ACC-2); nothing is written."""
    actor = Actor(user=users[role])
    group = GroupFactory(name="Keep")
    with pytest.raises(PermissionDenied):
        group_create(actor=actor, data={"name": "New", "group_set": group.group_set})
    with pytest.raises(PermissionDenied):
        group_update(actor=actor, group=group, data={"name": "Renamed"})
    with pytest.raises(PermissionDenied):
        group_delete(actor=actor, group=group)
    with pytest.raises(PermissionDenied):
        group_set_delete(actor=actor, group_set=group.group_set)
    group.refresh_from_db()
    assert (group.name, group.version) == ("Keep", 1)
    assert list(Group.objects.values_list("name", flat=True)) == ["Keep"]


def test_full_names_for_a_list_cost_one_query(django_assert_num_queries):
    """`with_ancestor_names()` fetches every row's ancestors in one extra query."""
    regions = GroupSetFactory()
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    for name in ("London", "Leeds", "York"):
        GroupFactory(group_set=regions, name=name, parent=uk)
    with django_assert_num_queries(2):
        names = [g.full_name for g in Group.objects.with_ancestor_names().order_by("path")]
    assert names[:2] == ["Europe", "Europe › UK"]
    assert sorted(names[2:]) == [
        "Europe › UK › Leeds",
        "Europe › UK › London",
        "Europe › UK › York",
    ]
