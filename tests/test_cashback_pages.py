"""Cashback pages: the group's Cashback button, the form with its preview and run (from a
group or the customer list's selection), the job page's Undo, the overview card."""

import json

import pytest
from django.urls import reverse

from patron.jobs.models import Job
from patron.jobs.services import job_run
from tests.test_cashback import D, held, promo  # noqa: F401

pytestmark = pytest.mark.django_db


def test_pages_group_button_preview_run_job_undo_and_the_overview_card(client, owner, promo):  # noqa: F811
    group, people, _ = promo
    client.force_login(owner)
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert f"/cashback/run/?group={group.pk}" in page
    form = client.get(reverse("cashback:run"), {"group": group.pk})
    assert form.status_code == 200
    assert "Summer promo 2026" in form.content.decode()
    data = {"group": group.pk, "mode": "relative", "amount": "-3.00", "comment": "Expired"}
    preview = client.post(reverse("cashback:run"), {**data, "step": "preview"})
    text = preview.content.decode()
    assert preview.status_code == 200, text
    assert 'data-testid="will-change">2<' in text
    assert "Dan Example holds £2.50 in cashback" in text
    assert not Job.objects.exists()
    missing = client.post(reverse("cashback:run"), {**data, "comment": "", "step": "preview"})
    assert missing.status_code == 400
    ran = client.post(reverse("cashback:run"), {**data, "step": "run", "idempotency_key": "f-1"})
    job = Job.objects.get()
    assert ran.status_code == 302 and ran["Location"] == job.get_absolute_url()
    # A double submit starts one job.
    client.post(reverse("cashback:run"), {**data, "step": "run", "idempotency_key": "f-1"})
    assert Job.objects.count() == 1
    job = job_run(job.pk)
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="cashback-undo"' in page
    overview = client.get(reverse("customers:detail", args=[people["Carol"].pk])).content.decode()
    assert 'data-testid="cashback-card"' in overview
    assert "Expired" in overview and "£7.00" in overview
    assert "?book=cashback" in overview
    undone = client.post(reverse("cashback:undo", args=[job.pk]))
    undo_job = Job.objects.exclude(pk=job.pk).get()
    assert undone["Location"] == undo_job.get_absolute_url()
    job_run(undo_job.pk)
    assert held(people["Carol"]) == D("10.00")
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="cashback-undo"' not in page
    assert 'data-testid="undone-by"' in page


def test_pages_from_the_customer_list_selection(client, owner, promo):  # noqa: F811
    _, people, _ = promo
    client.force_login(owner)
    ids = [people["Alice"].pk, people["Bob"].pk]
    form = client.get(reverse("cashback:run"), {"ids": ids})
    assert "2 selected customers" in form.content.decode()
    data = {
        "target": json.dumps({"ids": ids}),
        "mode": "absolute",
        "amount": "4.00",
        "comment": "Pair",
    }
    preview = client.post(reverse("cashback:run"), {**data, "step": "preview"})
    assert 'data-testid="will-change">2<' in preview.content.decode()
    client.post(reverse("cashback:run"), {**data, "step": "run"})
    job_run(Job.objects.get().pk)
    assert held(people["Alice"]) == held(people["Bob"]) == D("4.00")
    # A segment query from the list works too.
    form = client.get(reverse("cashback:run"), {"q": "cashback>5"})
    assert form.status_code == 200


def test_pages_refuse_roles_without_the_permission(client, staff, promo):  # noqa: F811
    group, _, _ = promo
    client.force_login(staff)
    assert (
        "/cashback/run/"
        not in client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    )
    assert client.get(reverse("cashback:run"), {"group": group.pk}).status_code == 403
