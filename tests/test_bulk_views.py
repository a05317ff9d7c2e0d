"""The bulk action page (choose, preview, run), the Undo button, and the bulk API."""

import json

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from patron.bulk.engine import UNDO_KIND, kind_for
from patron.core.actor import Actor
from patron.customers.models import CustomerTag, GroupMembership
from patron.events.models import Event
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory, TagFactory

pytestmark = pytest.mark.django_db

BULK = reverse("jobs:bulk")


@pytest.fixture
def vip():
    return TagFactory(name="VIP")


@pytest.fixture
def three(db):
    return [CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat")]


def tagged(tag):
    return set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))


def page_text(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


# --- the page ------------------------------------------------------------------------------


def test_page_from_a_selection_counts_the_customers(client, staff, three):
    """GET with repeated `ids` from the list shows how many customers are chosen."""
    client.force_login(staff)
    response = client.get(BULK, {"ids": [three[0].pk, three[1].pk]})
    assert response.status_code == 200
    text = page_text(response)
    assert "On 2 selected customers: 2 customers chosen." in text
    assert json.loads(response.context["form"]["target"].value()) == {
        "ids": sorted([three[0].pk, three[1].pk])
    }


def test_page_from_a_segment_and_from_the_list_filter(client, staff, vip, three):
    client.force_login(staff)
    CustomerTag.objects.create(customer=three[0], tag=vip)
    response = client.get(BULK, {"q": "tag:VIP"})
    assert "On segment “tag:VIP”: 1 customer chosen." in page_text(response)
    response = client.get(BULK, {"tag": vip.pk, "page": 2})
    assert f"On list filter tag={vip.pk}: 1 customer chosen." in page_text(response)


def test_page_with_a_bad_query_explains_and_offers_the_way_back(client, staff, vip):
    client.force_login(staff)
    response = client.get(BULK, {"q": "tag:vpi"})
    assert response.status_code == 200
    errors = response.context["target_errors"]
    assert len(errors) == 1 and "did you mean 'VIP'?" in errors[0]
    response = client.get(BULK)
    assert response.context["target_errors"] == [
        "Choose the customers: tick some in the list, or give a segment query or a filter."
    ]


def test_read_only_user_is_refused_the_page(client, readonly, three):
    client.force_login(readonly)
    assert client.get(BULK, {"ids": [three[0].pk]}).status_code == 403


def test_preview_then_run_then_undo(client, staff, vip, three):
    """Preview changes nothing; Run queues the job and goes to its page; Undo reverts it."""
    client.force_login(staff)
    target = json.dumps({"ids": [c.pk for c in three]})
    form = {"action": "add_tag", "tag": vip.pk, "target": target}
    response = client.post(BULK, {**form, "step": "preview"})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.will_change, preview.matched) == (3, 3)
    assert "3 of 3 customers will change" in page_text(response)
    assert "Ann" in page_text(response) and "→" in page_text(response)
    assert Job.objects.count() == 0 and tagged(vip) == set()

    key = response.context["idempotency_key"]
    response = client.post(BULK, {**form, "step": "run", "idempotency_key": key})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.kind == kind_for("add_tag")
    client.post(BULK, {**form, "step": "run", "idempotency_key": key})
    assert Job.objects.count() == 1  # a second click on Run starts nothing new

    job = job_run(job.pk)
    assert tagged(vip) == {c.pk for c in three}
    detail = client.get(job.get_absolute_url())
    assert detail.context["can_undo"] is True
    assert "Undo this bulk action" in page_text(detail)

    response = client.post(reverse("jobs:undo", args=[job.pk]))
    undo = Job.objects.get(kind=UNDO_KIND)
    assert response["Location"] == undo.get_absolute_url()
    job_run(undo.pk)
    assert tagged(vip) == set()
    detail = client.get(job.get_absolute_url())
    assert detail.context["can_undo"] is False
    assert f"job #{undo.pk}" in page_text(detail)
    again = client.post(reverse("jobs:undo", args=[job.pk]), follow=True)
    assert f"This bulk action was already undone by job #{undo.pk}." in page_text(again)
    assert Job.objects.filter(kind=UNDO_KIND).count() == 1


def test_preview_without_the_actions_field_is_refused_by_field(client, staff, three):
    client.force_login(staff)
    target = json.dumps({"ids": [three[0].pk]})
    response = client.post(BULK, {"action": "set_group", "target": target, "step": "preview"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"group": ["Choose one."]}
    response = client.post(BULK, {"action": "add_tag", "target": "not json", "tag": ""})
    assert response.status_code == 400
    assert "target" in response.context["form"].errors
    assert Job.objects.count() == 0


def test_preview_lists_single_choice_conflicts(client, staff, three):
    client.force_login(staff)
    regions = GroupSetFactory(name="Regions", single_choice=True)
    north = GroupFactory(name="North", group_set=regions)
    south = GroupFactory(name="South", group_set=regions)
    GroupMembership.objects.create(
        customer=three[1], group=south, group_set=regions, exclusive=True
    )
    target = json.dumps({"ids": [c.pk for c in three]})
    response = client.post(
        BULK, {"action": "set_group", "group": north.pk, "target": target, "step": "preview"}
    )
    text = page_text(response)
    assert "2 of 3 customers will change" in text
    assert "Bob is already in “South” of the single-choice set “Regions”" in text


def test_bulk_tag_view_still_starts_a_job(client, staff, vip, three):
    """The older bulk tag form of the customer list keeps working: it starts the bulk action
    "Add the tag", whose page offers Undo once it has run."""
    client.force_login(staff)
    response = client.post(
        reverse("jobs:bulk_tag"), {"tag": vip.pk, "action": "add", "query": "city=Leeds"}
    )
    job = Job.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.kind == kind_for("add_tag")
    job_run(job.pk)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="job-undo"' in page
    assert "list filter city=Leeds" in page


# --- API -----------------------------------------------------------------------------------


def test_api_bulk_action_runs_and_undoes(api, users, vip, three):
    """POST /api/jobs/bulk/ answers 202; GET shows progress; POST …/undo/ reverts."""
    client = api["staff"]
    response = client.post(
        "/api/jobs/bulk/",
        {"action": "add_tag", "tag": vip.pk, "q": "city:Leeds"},
        format="json",
    )
    assert response.status_code == 202, response.data
    job_id = response.data["id"]
    assert response["Location"] == f"/api/jobs/{job_id}/"
    assert response.data["kind"] == "customers.bulk_add_tag"
    assert response.data["params"]["target"] == {"q": "city:Leeds"}
    job_run(job_id)
    response = client.get(f"/api/jobs/{job_id}/")
    assert (response.data["state"], response.data["percent"]) == ("succeeded", 100)
    assert response.data["result_summary"]["changed"] == 3
    assert tagged(vip) == {c.pk for c in three}

    response = client.post(f"/api/jobs/{job_id}/undo/")
    assert response.status_code == 202
    job_run(response.data["id"])
    assert tagged(vip) == set()
    response = client.post(f"/api/jobs/{job_id}/undo/")
    assert response.status_code == 400
    assert response.data["job"] == [f"This bulk action was already undone by job #{job_id + 1}."]


def test_api_preview_changes_nothing(api, users, vip, three):
    client = api["staff"]
    response = client.post(
        "/api/jobs/bulk/preview/",
        {"action": "archive", "ids": [three[0].pk, 999999]},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["will_change"] == 1
    assert response.data["failures"] == [
        {"customer": None, "message": "Customer #999999 was not found."}
    ]
    assert response.data["sample"][0]["before"] == "Active"
    assert response.data["sample"][0]["after"] == "Archived"
    assert Job.objects.count() == 0 and Event.objects.count() == 0


def test_api_bulk_errors_are_keyed_by_field(api, users, vip):
    client = api["staff"]
    response = client.post("/api/jobs/bulk/", {"action": "explode"}, format="json")
    assert response.status_code == 400 and "action" in response.data
    response = client.post(
        "/api/jobs/bulk/", {"action": "add_tag", "tag": vip.pk, "q": "tag:vpi"}, format="json"
    )
    assert response.status_code == 400
    assert "did you mean 'VIP'?" in response.data["q"][0]
    response = client.post(
        "/api/jobs/bulk/",
        {"action": "change_status", "status": 999999, "ids": [1]},
        format="json",
    )
    assert response.status_code == 400
    assert response.data["status"] == ["Choose an existing status."]
    assert Job.objects.count() == 0


def test_api_bulk_by_read_only_is_forbidden(api, users, vip, three):
    client = api["readonly"]
    response = client.post(
        "/api/jobs/bulk/", {"action": "add_tag", "tag": vip.pk, "ids": [three[0].pk]}, format="json"
    )
    assert response.status_code == 403
    response = client.post(
        "/api/jobs/bulk/preview/", {"action": "archive", "ids": [three[0].pk]}, format="json"
    )
    assert response.status_code == 403
    assert Job.objects.count() == 0


def test_api_undo_of_another_users_job_is_404(api, users, vip, three):
    job = job_enqueue(
        actor=Actor(user=users["owner"]),
        kind=kind_for("add_tag"),
        params={"tag": vip.pk, "ids": [three[0].pk]},
    )
    job_run(job.pk)
    response = api["staff"].post(f"/api/jobs/{job.pk}/undo/")
    assert response.status_code == 404
    assert tagged(vip) == {three[0].pk}
