"""Group sets and groups through the REST API, under every role."""

import pytest

from patron.customers.services import customer_groups_set
from patron.groups.models import Group, GroupSet
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

pytestmark = pytest.mark.django_db

SETS = "/api/group-sets/"
GROUPS = "/api/groups/"

READ = [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)]
CREATE = [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403), ("anon", 401)]
UPDATE = [("owner", 200), ("admin", 200), ("staff", 403), ("readonly", 403), ("anon", 401)]
DELETE = [("owner", 204), ("admin", 204), ("staff", 403), ("readonly", 403), ("anon", 401)]


# Group sets


@pytest.mark.parametrize(("role", "expected"), READ)
def test_group_set_list_and_retrieve_by_role(api, role, expected):
    regions = GroupSetFactory(name="Regions", single_choice=False, position=20)
    GroupFactory(group_set=regions)
    response = api[role].get(SETS)
    assert response.status_code == expected
    detail = api[role].get(f"{SETS}{regions.pk}/")
    assert detail.status_code == expected
    if expected == 200:
        rows = {r["name"]: r for r in response.json()["results"]}
        assert set(rows) == {"Customer group", "Regions"}
        assert detail.json() == {
            **rows["Regions"],
            "kind": "Multiple choice",
            "group_count": 1,
            "single_choice": False,
        }
        assert detail["ETag"] == f'"{regions.pk}-1"'


@pytest.mark.parametrize(("role", "expected"), CREATE)
def test_group_set_create_by_role(api, role, expected):
    response = api[role].post(SETS, {"name": "Plans", "single_choice": False}, format="json")
    assert response.status_code == expected
    assert GroupSet.objects.filter(name="Plans").exists() is (expected == 201)
    if expected == 201:
        assert response.json()["kind"] == "Multiple choice"


@pytest.mark.parametrize(("role", "expected"), UPDATE)
def test_group_set_update_by_role(api, role, expected):
    plans = GroupSetFactory(name="Plans")
    response = api[role].patch(f"{SETS}{plans.pk}/", {"name": "Tariffs"}, format="json")
    assert response.status_code == expected
    plans.refresh_from_db()
    assert (plans.name, plans.version) == (("Tariffs", 2) if expected == 200 else ("Plans", 1))


@pytest.mark.parametrize(("role", "expected"), DELETE)
def test_group_set_delete_by_role(api, role, expected):
    plans = GroupSetFactory(name="Plans")
    response = api[role].delete(f"{SETS}{plans.pk}/")
    assert response.status_code == expected
    assert GroupSet.objects.filter(pk=plans.pk).exists() is (expected != 204)


def test_group_set_with_groups_delete_is_400_with_the_message(api):
    plans = GroupSetFactory(name="Plans")
    GroupFactory(group_set=plans)
    response = api["owner"].delete(f"{SETS}{plans.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["“Plans” still has 1 group(s); delete or move them first."]
    }
    assert GroupSet.objects.filter(pk=plans.pk).exists()


def test_group_set_single_choice_switch_refused_keyed_by_field(api, actor):
    interests = GroupSetFactory(name="Interests", single_choice=False)
    a, b = GroupFactory(group_set=interests), GroupFactory(group_set=interests)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[a, b])
    response = api["admin"].patch(f"{SETS}{interests.pk}/", {"single_choice": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "single_choice": [
            "1 customer(s) are in more than one group of “Interests”; leave each in one "
            "group before making it single-choice."
        ]
    }
    interests.refresh_from_db()
    assert interests.single_choice is False


# Groups


@pytest.mark.parametrize(("role", "expected"), READ)
def test_group_list_and_retrieve_by_role(api, role, expected, actor):
    regions = GroupSetFactory(name="Regions")
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe, payment_group=True)
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[uk])
    response = api[role].get(GROUPS)
    assert response.status_code == expected
    detail = api[role].get(f"{GROUPS}{uk.pk}/")
    assert detail.status_code == expected
    if expected != 200:
        assert "detail" in response.json()
        return
    assert {r["full_name"]: r["member_count"] for r in response.json()["results"]} == {
        "Europe": 0,
        "Europe › UK": 1,
    }
    body = detail.json()
    assert {k: body[k] for k in body if k not in {"created", "modified"}} == {
        "id": uk.pk,
        "name": "UK",
        "full_name": "Europe › UK",
        "description": "",
        "group_set": regions.pk,
        "group_set_name": "Regions",
        "single_choice": True,
        "parent": europe.pk,
        "depth": 1,
        "colour": "#6f42c1",
        "display_class": "",
        "position": 100,
        "personal_customers": False,
        "reseller": False,
        "payment_group": True,
        "apply_member_credits": False,
        "segment": None,
        "is_dynamic": False,
        "archived": False,
        "was_used": True,
        "member_count": 1,
        "version": 1,
    }
    assert detail["ETag"] == f'"{uk.pk}-1"'


def test_group_list_filters(api):
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    london = GroupFactory(group_set=regions, name="London", parent=uk)
    GroupFactory(group_set=plans, name="Fibre", payment_group=True)
    GroupFactory(group_set=plans, name="Old plan", archived=True)

    def names(**params):
        response = api["readonly"].get(GROUPS, params)
        assert response.status_code == 200
        return sorted(r["name"] for r in response.json()["results"])

    assert names() == ["Europe", "Fibre", "London", "UK"]
    assert names(q="on") == ["London"]
    assert names(group_set=plans.pk) == ["Fibre"]
    assert names(parent=uk.pk) == ["London"]
    assert names(within=uk.pk) == ["London", "UK"]
    assert names(payment_group="true") == ["Fibre"]
    assert names(archived="archived") == ["Old plan"]
    assert names(archived="all") == ["Europe", "Fibre", "London", "Old plan", "UK"]
    assert london.pk


@pytest.mark.parametrize(("role", "expected"), CREATE)
def test_group_create_by_role(api, role, expected):
    regions = GroupSetFactory(name="Regions")
    europe = GroupFactory(group_set=regions, name="Europe")
    response = api[role].post(
        GROUPS, {"name": "UK", "group_set": regions.pk, "parent": europe.pk}, format="json"
    )
    assert response.status_code == expected
    assert Group.objects.filter(name="UK").exists() is (expected == 201)
    if expected == 201:
        body = response.json()
        assert (body["full_name"], body["depth"], body["member_count"]) == ("Europe › UK", 1, 0)
        assert response["ETag"] == f'"{body["id"]}-1"'


def test_group_create_with_unknown_set_or_parent_is_400_keyed_by_field(api):
    regions = GroupSetFactory(name="Regions")
    response = api["owner"].post(
        GROUPS, {"name": "UK", "group_set": 9999, "parent": 8888}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "group_set": ['Invalid pk "9999" - object does not exist.'],
        "parent": ['Invalid pk "8888" - object does not exist.'],
    }
    response = api["owner"].post(GROUPS, {"name": "UK", "group_set": regions.pk}, format="json")
    assert response.status_code == 201
    assert list(Group.objects.values_list("name", flat=True)) == ["UK"]


def test_group_duplicate_name_and_foreign_parent_are_400_keyed_by_field(api):
    regions, plans = GroupSetFactory(name="Regions"), GroupSetFactory(name="Plans")
    europe = GroupFactory(group_set=regions, name="Europe")
    response = api["admin"].post(GROUPS, {"name": "EUROPE", "group_set": plans.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["A group named “Europe” already exists."]}
    response = api["admin"].post(
        GROUPS, {"name": "Fibre", "group_set": plans.pk, "parent": europe.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "parent": ["The parent group “Europe” belongs to another group set."]
    }
    assert Group.objects.count() == 1


@pytest.mark.parametrize(("role", "expected"), UPDATE)
def test_group_update_by_role(api, role, expected):
    group = GroupFactory(name="Before")
    response = api[role].patch(f"{GROUPS}{group.pk}/", {"name": "After"}, format="json")
    assert response.status_code == expected
    group.refresh_from_db()
    assert (group.name, group.version) == (("After", 2) if expected == 200 else ("Before", 1))


def test_group_move_under_new_parent_rewrites_subtree(api):
    regions = GroupSetFactory()
    europe = GroupFactory(group_set=regions, name="Europe")
    north = GroupFactory(group_set=regions, name="North")
    uk = GroupFactory(group_set=regions, name="UK", parent=europe)
    london = GroupFactory(group_set=regions, name="London", parent=uk)
    response = api["owner"].patch(f"{GROUPS}{uk.pk}/", {"parent": north.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "North › UK"
    assert api["owner"].get(f"{GROUPS}{london.pk}/").json()["full_name"] == "North › UK › London"
    cycle = api["owner"].patch(f"{GROUPS}{north.pk}/", {"parent": london.pk}, format="json")
    assert cycle.status_code == 400
    assert cycle.json() == {
        "parent": ["A group cannot be placed under itself or one of its subgroups."]
    }


def test_stale_if_match_is_412_and_changes_nothing(api):
    group = GroupFactory(name="Before")
    fresh = api["owner"].get(f"{GROUPS}{group.pk}/")
    etag = fresh["ETag"]
    assert (
        api["owner"]
        .patch(f"{GROUPS}{group.pk}/", {"name": "First"}, format="json", HTTP_IF_MATCH=etag)
        .status_code
        == 200
    )
    stale = api["admin"].patch(
        f"{GROUPS}{group.pk}/", {"name": "Second"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert stale["ETag"] == f'"{group.pk}-2"'
    group.refresh_from_db()
    assert (group.name, group.version) == ("First", 2)


def test_stale_if_match_on_group_set_is_412(api):
    plans = GroupSetFactory(name="Plans")
    response = api["owner"].patch(
        f"{SETS}{plans.pk}/", {"name": "Tariffs"}, format="json", HTTP_IF_MATCH=f'"{plans.pk}-7"'
    )
    assert response.status_code == 412
    plans.refresh_from_db()
    assert plans.name == "Plans"


@pytest.mark.parametrize(("role", "expected"), DELETE)
def test_unused_group_delete_by_role(api, role, expected):
    group = GroupFactory(name="Typo")
    response = api[role].delete(f"{GROUPS}{group.pk}/")
    assert response.status_code == expected
    assert Group.objects.filter(pk=group.pk).exists() is (expected != 204)


def test_used_group_delete_is_400_with_the_message(api, actor):
    group = GroupFactory(name="Spring promo")
    customer_groups_set(actor=actor, customer=CustomerFactory(), groups=[group])
    response = api["owner"].delete(f"{GROUPS}{group.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "“Spring promo” has had members, so it is kept for their history: archive it instead."
        ]
    }
    assert Group.objects.filter(pk=group.pk).exists()


@pytest.mark.parametrize(("role", "expected"), UPDATE)
def test_archive_and_restore_by_role(api, role, expected):
    group = GroupFactory(name="Promo")
    response = api[role].post(f"{GROUPS}{group.pk}/archive/")
    assert response.status_code == expected
    group.refresh_from_db()
    assert group.archived is (expected == 200)
    if expected != 200:
        assert group.version == 1
        return
    assert response.json()["archived"] is True
    assert api[role].get(GROUPS).json()["results"] == []
    restored = api[role].post(f"{GROUPS}{group.pk}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    group.refresh_from_db()
    assert (group.archived, group.version) == (False, 3)


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_restore_refused_for_staff_and_readonly(api, role):
    group = GroupFactory(name="Promo", archived=True)
    response = api[role].post(f"{GROUPS}{group.pk}/restore/")
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.archived is True


def test_unknown_group_is_404(api):
    assert api["owner"].get(f"{GROUPS}999999/").status_code == 404
    assert api["owner"].post(f"{GROUPS}999999/archive/").status_code == 404


def test_schema_lists_group_endpoints(api):
    response = api["owner"].get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/group-sets/",
        "/api/group-sets/{id}/",
        "/api/groups/",
        "/api/groups/{id}/",
        "/api/groups/{id}/archive/",
        "/api/groups/{id}/restore/",
    } <= set(paths)
