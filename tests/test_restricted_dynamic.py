"""ACC-3 with ORG-5: a user restricted to a dynamic group sees exactly its live members.

The world: the dynamic group "VIP club" (segment `tag:vip`) in the
multiple-choice set Interests; "Inside Ivy" has the tag, "Outside Oscar" has
not. The staff user is restricted to VIP club. Every surface shows Ivy and
never Oscar, and membership follows the tag live. A second world restricts
the user to a static parent whose subtree holds a dynamic group.
"""

import csv
import io
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import User
from patron.bulk import engine
from patron.bulk.engine import kind_for
from patron.core.actor import Actor
from patron.customers import services
from patron.customers.models import Customer, CustomerTag
from patron.events.models import Event
from patron.groups import services as group_services
from patron.groups.models import GroupSet
from patron.groups.visibility import restricted_customer_q
from patron.imports.checking import CustomerFileChecker
from patron.imports.exporting import export_path
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.segments import services as segment_services
from patron.segments.models import Segment
from tests.conftest import token_client
from tests.factories import ContactFactory, CustomerFactory, GroupFactory, TagFactory
from tests.test_restricted_surfaces import assert_no_outside
from tests.test_segments_language import segment_permissions  # noqa: F401


def fresh(user) -> User:
    """The user read again: the restriction is cached per user object."""
    return User.objects.get(pk=user.pk)


def dynamic_group(owner, name, query, group_set, parent=None):
    actor = Actor(user=owner)
    segment = segment_services.segment_create(
        actor=actor, data={"name": f"{name} segment", "query": query}
    )
    data = {"name": name, "group_set": group_set, "segment": segment}
    if parent is not None:
        data["parent"] = parent
    return group_services.group_create(actor=actor, data=data)


@pytest.fixture
def world(db, owner, staff):
    w = SimpleNamespace(owner=owner, actor=Actor(user=owner))
    w.interests = GroupSet.objects.create(name="Interests", single_choice=False)
    w.vip = TagFactory(name="vip")
    w.club = dynamic_group(owner, "VIP club", "tag:vip", w.interests)
    w.inside = CustomerFactory(name="Inside Ivy", account_number="IN0001")
    w.outside = CustomerFactory(name="Outside Oscar", account_number="OUT0001")
    ContactFactory(
        customer=w.inside, name="Ian Insider", email="ian@inside.example", phone="+447911000001"
    )
    ContactFactory(
        customer=w.outside,
        name="Olga Outsider",
        email="olga@outside.example",
        phone="+447911000002",
    )
    services.customer_tag_add(actor=w.actor, customer=w.inside, tag=w.vip)
    services.customer_update(actor=w.actor, customer=w.outside, data={"notes": "outside"})
    staff.restricted_groups.set([w.club])
    w.staff = fresh(staff)
    return w


@pytest.fixture
def web(client, world):
    client.force_login(world.staff)
    return client


@pytest.fixture
def rest(world):
    return token_client(world.staff)


def list_names(web, **params):
    page = web.get(reverse("customers:list"), params)
    assert page.status_code == 200
    return sorted(c.name for c, _ in page.context["rows"])


def test_list_and_queryset_hold_exactly_the_live_members(web, world):
    """The list shows the dynamic group's members, and nothing else."""
    assert list(Customer.objects.restrict(world.staff)) == [world.inside]
    assert list_names(web) == ["Inside Ivy"]
    assert_no_outside(web.get(reverse("customers:list")).content)


def test_membership_is_live(web, rest, world):
    """When Ivy loses the tag she leaves the user's view; when Oscar gains it he enters."""
    services.customer_tag_remove(actor=world.actor, customer=world.inside, tag=world.vip)
    assert list_names(web) == []
    assert web.get(reverse("customers:detail", args=[world.inside.pk])).status_code == 404
    assert rest.get(f"/api/customers/{world.inside.pk}/").status_code == 404
    services.customer_tag_add(actor=world.actor, customer=world.outside, tag=world.vip)
    assert list_names(web) == ["Outside Oscar"]
    assert rest.get(f"/api/customers/{world.outside.pk}/").status_code == 200


def test_search(web, rest, world):
    """Search finds members only, by any of their details."""
    for text in ("Outside", "Olga", "olga@outside", "07911 000002", "OUT0001"):
        assert list_names(web, q=text) == []
        assert rest.get("/api/customers/", {"q": text}).json()["results"] == []
    assert list_names(web, q="07911 000001") == ["Inside Ivy"]
    found = rest.get("/api/customers/", {"q": "Ivy"}).json()["results"]
    assert [c["name"] for c in found] == ["Inside Ivy"]


def test_counts(web, rest, world, owner):
    """The list total, the segment counts and the group's member count count members only."""
    page = web.get(reverse("customers:list"), {"q": "kind:person"})
    assert page.context["page_obj"].paginator.count == 1
    Segment.objects.create(name="People", query="kind:person", owner=owner, shared=True)
    segments = web.get(reverse("segments:list"))
    counts = {s.name: s.live_count for s in segments.context["page_obj"].object_list}
    assert counts["People"] == 1
    api_counts = {s["name"]: s["count"] for s in rest.get("/api/segments/").json()["results"]}
    assert api_counts["People"] == 1
    assert rest.post("/api/segments/validate/", {"query": "kind:person"}).json() == {"count": 1}
    club = web.get(reverse("groups:detail", args=[world.club.pk]))
    assert club.context["member_count"] == 1
    assert_no_outside(club.content)


def test_overview(web, world):
    """A member's overview opens; anyone else's pages are 404."""
    assert web.get(reverse("customers:detail", args=[world.inside.pk])).status_code == 200
    for name in ("detail", "edit", "events"):
        assert web.get(reverse(f"customers:{name}", args=[world.outside.pk])).status_code == 404


def test_api_list_and_detail(rest, world):
    body = rest.get("/api/customers/").json()
    assert [c["name"] for c in body["results"]] == ["Inside Ivy"]
    assert rest.get(f"/api/customers/{world.inside.pk}/").status_code == 200
    assert rest.get(f"/api/customers/{world.outside.pk}/").status_code == 404
    patched = rest.patch(f"/api/customers/{world.outside.pk}/", {"name": "X"}, format="json")
    assert patched.status_code == 404
    assert Customer.objects.get(pk=world.outside.pk).name == "Outside Oscar"


def test_event_log(web, rest, world):
    """Events about Oscar exist but are not shown; Ivy's are."""
    assert Event.objects.filter(customer=world.outside).exists()
    page = web.get(reverse("events:list"))
    customers = {e.customer_id for e in page.context["page_obj"].object_list}
    assert customers - {None} == {world.inside.pk}
    body = rest.get("/api/events/").json()
    assert {e["customer"] for e in body["results"]} - {None} == {world.inside.pk}
    assert_no_outside(rest.get("/api/events/").content)


def test_export_job(world, settings, tmp_path):
    """The user's export holds only the members, even when asked for Oscar by id or name."""
    settings.DATA_DIR = tmp_path

    def export(filter_value):
        job = job_enqueue(
            actor=Actor(user=world.staff),
            kind="imports.export_customers",
            params={"format": "csv", "filter": filter_value},
        )
        job = job_run(job.pk)
        assert job.state == Job.State.SUCCEEDED, job.error
        text = export_path(job.result_summary["file"]).read_text(encoding="utf-8-sig")
        return [r["name"] for r in csv.DictReader(io.StringIO(text))]

    assert export("") == ["Inside Ivy"]
    assert export({"ids": [world.outside.pk]}) == []
    assert export({"q": "Outside"}) == []
    assert export({"q": 'group:"VIP club"'}) == ["Inside Ivy"]


def test_bulk_action_never_touches_a_non_member(world):
    """A bulk tag by selection or by 'everything' reaches the members only."""
    gold = TagFactory(name="gold")
    actor = Actor(user=world.staff)
    params = engine.bulk_params(actor, "add_tag", {"tag": gold.pk, "q": "kind:person"})
    job = job_run(job_enqueue(actor=actor, kind=kind_for("add_tag"), params=params).pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert set(CustomerTag.objects.filter(tag=gold).values_list("customer_id", flat=True)) == {
        world.inside.pk
    }
    legacy = job_enqueue(
        actor=actor,
        kind="customers.bulk_tag",
        params={
            "tag": gold.pk,
            "action": "remove",
            "customers": [world.inside.pk, world.outside.pk],
        },
    )
    job_run(legacy.pk)
    services.customer_tag_add(actor=world.actor, customer=world.outside, tag=gold)
    again = job_enqueue(
        actor=actor,
        kind="customers.bulk_tag",
        params={"tag": gold.pk, "action": "remove", "filter": ""},
    )
    job_run(again.pk)
    assert set(CustomerTag.objects.filter(tag=gold).values_list("customer_id", flat=True)) == {
        world.outside.pk
    }
    assert not Event.objects.filter(
        customer=world.outside, actor_user=world.staff, message__icontains="gold"
    ).exists()


def test_broken_segment_shows_nothing_of_its_group_and_the_group_page_says_why(web, world):
    """A segment that names a tag no longer there selects nobody; nothing crashes."""
    Segment.objects.filter(pk=world.club.segment_id).update(query="tag:gone")
    assert list_names(web) == []
    assert web.get(reverse("customers:detail", args=[world.inside.pk])).status_code == 404
    page = web.get(reverse("groups:detail", args=[world.club.pk]))
    assert page.status_code == 200
    assert page.context["segment_error"]
    assert "gone" in page.content.decode()
    assert_no_outside(page.content)


# --- a parent group with a dynamic child ----------------------------------------------------


@pytest.fixture
def regions(db, owner, staff):
    """North (static) holds Nora by hand and the dynamic child "North VIPs" (tag:vip)."""
    w = SimpleNamespace(actor=Actor(user=owner))
    region = GroupSet.objects.create(name="Regions", single_choice=False)
    w.north = GroupFactory(group_set=region, name="North")
    w.south = GroupFactory(group_set=region, name="South")
    w.vip = TagFactory(name="vip")
    w.north_vips = dynamic_group(owner, "North VIPs", "tag:vip", region, parent=w.north)
    w.nora = CustomerFactory(name="Nora North")
    w.vera = CustomerFactory(name="Vera Vip")
    w.sam = CustomerFactory(name="Sam South")
    services.customer_groups_set(actor=w.actor, customer=w.nora, groups=[w.north])
    services.customer_groups_set(actor=w.actor, customer=w.sam, groups=[w.south])
    services.customer_tag_add(actor=w.actor, customer=w.vera, tag=w.vip)
    staff.restricted_groups.set([w.north])
    w.staff = fresh(staff)
    return w


def test_parent_restriction_includes_its_dynamic_child(client, regions):
    """Restricted to North, the user sees North's own members and North VIPs' live ones."""
    names = sorted(Customer.objects.restrict(regions.staff).values_list("name", flat=True))
    assert names == ["Nora North", "Vera Vip"]
    client.force_login(regions.staff)
    assert list_names(client) == ["Nora North", "Vera Vip"]
    assert client.get(reverse("customers:detail", args=[regions.sam.pk])).status_code == 404
    rest = token_client(regions.staff)
    assert sorted(c["name"] for c in rest.get("/api/customers/").json()["results"]) == names
    services.customer_tag_add(actor=regions.actor, customer=regions.sam, tag=regions.vip)
    assert "Sam South" in list_names(client)


def test_parent_restriction_with_a_broken_dynamic_child_keeps_the_rest(client, regions):
    """A broken child segment hides that child's members only, not North's own."""
    Segment.objects.filter(pk=regions.north_vips.segment_id).update(query="tag:gone")
    client.force_login(fresh(regions.staff))
    assert list_names(client) == ["Nora North"]


def test_restriction_costs_the_same_queries_for_one_or_three_dynamic_groups(owner, regions):
    """Building the restriction reads the dynamic groups once, and each kind of name their
    segments use once, however many there are; the API list costs the same too."""
    rest = token_client(regions.staff)
    url = "/api/customers/"
    counts = {}
    for n in (1, 3):
        for i in range(2, n + 1):
            TagFactory(name=f"extra{i}")
            dynamic_group(
                owner,
                f"North extra {i}",
                f"tag:extra{i} or tag:vip",
                regions.north.group_set,
                parent=regions.north,
            )
        with CaptureQueriesContext(connection) as queries:
            restricted_customer_q(fresh(regions.staff))
        built = len(queries.captured_queries)
        rest.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = rest.get(url)
        assert sorted(c["name"] for c in response.json()["results"]) == ["Nora North", "Vera Vip"]
        counts[n] = (built, len(queries.captured_queries))
    assert counts[1] == counts[3], counts


def test_import_needs_a_static_group_of_the_uploader(regions):
    """A restricted uploader's new customers go into a group of theirs that takes members by
    hand; their dynamic group does not count, since nobody joins it by hand."""
    checker = CustomerFileChecker(Actor(user=regions.staff))

    def problems(groups):
        errors = []
        checker._check_groups(groups, lambda column, message: errors.append((column, message)))
        return errors

    assert problems([regions.north]) == []
    refused = (
        "groups",
        "You may add customers only to the groups you work with; name one of them.",
    )
    assert refused in problems([regions.north_vips])
    assert refused in problems([regions.south])
