"""ACC-3: a user restricted to some groups sees only their customers, on every surface.

One test per surface. The world: "Inside" is in Leeds (a subgroup of North,
the staff user's restriction); "Outside" is in South. Each test proves that
Outside (its name, contact, events, count) never reaches the restricted user,
and that Inside still does, so an empty answer cannot pass by accident.
"""

import csv
import io
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from patron.accounts.models import User
from patron.core.actor import Actor
from patron.customers import services
from patron.customers.models import Contact, Customer, CustomerTag
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.imports.exporting import export_path
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.segments.models import Segment
from tests.conftest import token_client
from tests.factories import ContactFactory, CustomerFactory, GroupFactory, TagFactory

OUTSIDE_MARKS = ("Outside Oscar", "Olga Outsider", "olga@outside.example")


@pytest.fixture
def world(db, owner, staff):
    w = SimpleNamespace()
    actor = Actor(user=owner)
    region = GroupSet.objects.create(name="Region", single_choice=False)
    w.north = GroupFactory(group_set=region, name="North")
    w.leeds = GroupFactory(group_set=region, name="Leeds", parent=w.north)
    w.south = GroupFactory(group_set=region, name="South")
    w.vip = TagFactory(name="vip")
    w.inside = CustomerFactory(name="Inside Ivy", account_number="IN0001")
    w.outside = CustomerFactory(name="Outside Oscar", account_number="OUT0001")
    w.inside_contact = ContactFactory(
        customer=w.inside, name="Ian Insider", email="ian@inside.example", phone="+447911000001"
    )
    w.outside_contact = ContactFactory(
        customer=w.outside,
        name="Olga Outsider",
        email="olga@outside.example",
        phone="+447911000002",
    )
    services.customer_groups_set(actor=actor, customer=w.inside, groups=[w.leeds])
    services.customer_groups_set(actor=actor, customer=w.outside, groups=[w.south])
    for customer in (w.inside, w.outside):
        services.customer_tag_add(actor=actor, customer=customer, tag=w.vip)
    staff.restricted_groups.set([w.north])
    w.staff = User.objects.get(pk=staff.pk)  # fresh: the restriction is cached per object
    return w


@pytest.fixture
def web(client, world):
    client.force_login(world.staff)
    return client


@pytest.fixture
def rest(world):
    return token_client(world.staff)


def assert_no_outside(content: bytes):
    text = content.decode()
    for mark in OUTSIDE_MARKS:
        assert mark not in text, f"{mark!r} leaked"


def test_customer_list(web, world):
    page = web.get(reverse("customers:list"))
    assert [c.name for c, _ in page.context["rows"]] == ["Inside Ivy"]
    assert_no_outside(page.content)


def test_search(web, rest, world):
    """The search box, the API search and the queryset never find Outside."""
    for text in ("Outside", "Olga", "olga@outside", "07911 000002", "OUT0001"):
        assert not Customer.objects.restrict(world.staff).search(text).exists()
        page = web.get(reverse("customers:list"), {"q": text})
        assert list(page.context["rows"]) == []
        assert rest.get("/api/customers/", {"q": text}).json()["results"] == []
    page = web.get(reverse("customers:list"), {"q": "07911 000001"})
    assert [c.name for c, _ in page.context["rows"]] == ["Inside Ivy"]


def test_counts(web, rest, world, owner):
    """The list total and every segment count count only the visible customers."""
    page = web.get(reverse("customers:list"), {"q": "tag:vip"})
    assert page.context["page_obj"].paginator.count == 1
    Segment.objects.create(name="VIPs", query="tag:vip", owner=owner, shared=True)
    segments = web.get(reverse("segments:list"))
    assert [s.live_count for s in segments.context["page_obj"].object_list] == [1]
    api_counts = [s["count"] for s in rest.get("/api/segments/").json()["results"]]
    assert api_counts == [1]
    preview = web.get(reverse("segments:preview"), {"query": "tag:vip"})
    assert preview.context["count"] == 1
    assert rest.post("/api/segments/validate/", {"query": "tag:vip"}).json() == {"count": 1}


def test_tag_and_group_counts(web, rest, world):
    """Customer counts on the tag and group pages count only the visible customers."""
    tags = web.get(reverse("tags:list"))
    counts = {t.name: t.customer_count for t in tags.context["page_obj"].object_list}
    assert counts["vip"] == 1
    groups = web.get(reverse("groups:list"))
    members = {g.name: g.member_count for g in groups.context["page_obj"].object_list}
    assert (members["Leeds"], members["South"]) == (1, 0)
    south = web.get(reverse("groups:detail", args=[world.south.pk]))
    assert south.context["member_count"] == 0
    assert_no_outside(south.content)
    north = web.get(reverse("groups:detail", args=[world.north.pk]), {"subgroups": "1"})
    assert [s.member_count for s in north.context["subgroups"]] == [1]
    api = {g["name"]: g["member_count"] for g in rest.get("/api/groups/").json()["results"]}
    assert (api["Leeds"], api["South"]) == (1, 0)
    assert rest.get(f"/api/groups/{world.south.pk}/").json()["member_count"] == 0


def test_overview(web, world):
    """Outside's pages are 404, and Inside's page names nothing of Outside."""
    for name in ("detail", "edit", "events"):
        assert web.get(reverse(f"customers:{name}", args=[world.outside.pk])).status_code == 404
    Customer.objects.filter(pk=world.inside.pk).update(referred_by=world.outside)
    page = web.get(reverse("customers:detail", args=[world.inside.pk]))
    assert page.status_code == 200
    assert b"Inside Ivy" in page.content
    assert_no_outside(page.content)


def test_contacts(web, rest, world):
    outside = (world.outside.pk, world.outside_contact.pk)
    assert web.get(reverse("customers:contact_edit", args=outside)).status_code == 404
    assert web.post(reverse("customers:contact_delete", args=outside)).status_code == 404
    assert Contact.objects.filter(pk=world.outside_contact.pk).exists()
    assert web.get(reverse("customers:contact_add", args=[world.outside.pk])).status_code == 404
    assert set(Contact.objects.restrict(world.staff)) == {world.inside_contact}
    names = [c["name"] for c in rest.get("/api/contacts/").json()["results"]]
    assert names == ["Ian Insider"]
    assert rest.get(f"/api/contacts/{world.outside_contact.pk}/").status_code == 404
    moved = rest.post(
        "/api/contacts/", {"customer": world.outside.pk, "name": "Sneaky"}, format="json"
    )
    assert moved.status_code == 400
    assert not Contact.objects.filter(name="Sneaky").exists()


def test_api_list_and_detail(rest, world):
    body = rest.get("/api/customers/").json()
    assert [c["name"] for c in body["results"]] == ["Inside Ivy"]
    assert rest.get(f"/api/customers/{world.inside.pk}/").status_code == 200
    for suffix in ("", "status-history/"):
        assert rest.get(f"/api/customers/{world.outside.pk}/{suffix}").status_code == 404
    patched = rest.patch(f"/api/customers/{world.outside.pk}/", {"name": "X"}, format="json")
    assert patched.status_code == 404
    assert Customer.objects.get(pk=world.outside.pk).name == "Outside Oscar"


def test_event_log(web, rest, world):
    assert Event.objects.filter(customer=world.outside).exists()
    page = web.get(reverse("events:list"))
    customers = {e.customer_id for e in page.context["page_obj"].object_list}
    assert customers - {None} == {world.inside.pk}
    assert_no_outside(page.content)
    body = rest.get("/api/events/").json()
    assert {e["customer"] for e in body["results"]} - {None} == {world.inside.pk}
    assert_no_outside(rest.get("/api/events/").content)
    by_customer = rest.get("/api/events/", {"customer": world.outside.pk})
    assert by_customer.status_code in (200, 400)
    if by_customer.status_code == 200:
        assert by_customer.json()["results"] == []


def test_segments_count_and_explain(web, rest, world, owner):
    segment = Segment.objects.create(name="VIPs", query="tag:vip", owner=owner, shared=True)
    detail = web.get(reverse("segments:detail", args=[segment.pk]))
    assert detail.status_code == 200
    assert_no_outside(detail.content)
    members = rest.get(f"/api/segments/{segment.pk}/customers/").json()["results"]
    assert [m["name"] for m in members] == ["Inside Ivy"]
    explain = reverse("segments:explain", args=[segment.pk, world.outside.pk])
    assert web.get(explain).status_code == 404
    assert rest.get(f"/api/segments/{segment.pk}/explain/{world.outside.pk}/").status_code == 404
    assert rest.get(f"/api/segments/{segment.pk}/explain/{world.inside.pk}/").status_code == 200


def test_jobs(web, rest, world, owner):
    """A bulk job the restricted user starts never touches Outside; their job list is theirs."""
    gold = TagFactory(name="gold")
    others = job_enqueue(
        actor=Actor(user=owner), kind="customers.bulk_tag", params={"tag": gold.pk, "filter": ""}
    )
    mine = job_enqueue(
        actor=Actor(user=world.staff),
        kind="customers.bulk_tag",
        params={"tag": gold.pk, "customers": [world.inside.pk, world.outside.pk]},
    )
    job_run(mine.pk)
    assert set(CustomerTag.objects.filter(tag=gold).values_list("customer_id", flat=True)) == {
        world.inside.pk
    }
    assert not Event.objects.filter(customer=world.outside, message__contains="gold").exists()
    listed = web.get(reverse("jobs:list"))
    assert [j.pk for j in listed.context["page_obj"].object_list] == [mine.pk]
    assert web.get(reverse("jobs:detail", args=[others.pk])).status_code == 404
    assert [j["id"] for j in rest.get("/api/jobs/").json()["results"]] == [mine.pk]
    job = web.get(reverse("jobs:detail", args=[mine.pk]))
    assert_no_outside(job.content)
    by_filter = job_enqueue(
        actor=Actor(user=world.staff),
        kind="customers.bulk_tag",
        params={"tag": gold.pk, "action": "remove", "filter": ""},
    )
    assert job_run(by_filter.pk).result_summary["matched"] == 1
    assert set(CustomerTag.objects.filter(tag=gold).values_list("customer_id", flat=True)) == set()
    assert Job.objects.get(pk=others.pk).state == Job.State.QUEUED


def test_exports(world, owner, settings, tmp_path):
    """An export the restricted user starts holds only their customers, even by name or id;
    another user's export is not theirs to see or download."""
    settings.DATA_DIR = tmp_path

    def export(user, filter_value):
        job = job_enqueue(
            actor=Actor(user=user),
            kind="imports.export_customers",
            params={"format": "csv", "filter": filter_value},
        )
        job = job_run(job.pk)
        assert job.state == Job.State.SUCCEEDED, job.error
        path = export_path(job.result_summary["file"])
        return job, list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))

    _, everything = export(world.staff, "")
    assert [r["name"] for r in everything] == ["Inside Ivy"]
    for filter_value in ({"q": "Outside"}, {"ids": [world.outside.pk]}, {"tag": [world.vip.pk]}):
        _, rows = export(world.staff, filter_value)
        assert all(r["name"] == "Inside Ivy" for r in rows), filter_value
    theirs, rows = export(owner, "")
    assert {r["name"] for r in rows} == {"Inside Ivy", "Outside Oscar"}
    client = Client()
    client.force_login(world.staff)
    for name in ("imports:export_detail", "imports:export_download"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
