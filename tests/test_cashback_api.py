"""Cashback in the API: /api/groups/{id}/cashback/ (a job), /api/customers/{id}/cashback/,
each role, Idempotency-Key replay and a different body refused with 422, the schema."""

from decimal import Decimal

import pytest

from patron.jobs.models import Job
from patron.jobs.services import job_run
from patron.ledger.models import Book
from patron.ledger.services import balance_of
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory
from tests.test_cashback import give, join

pytestmark = pytest.mark.django_db

BODY = {"mode": "relative", "amount": "5.00", "comment": "Summer promo"}


@pytest.fixture
def promo(db):
    group = GroupFactory(
        name="Summer promo 2026", group_set=GroupSetFactory(name="Campaigns", single_choice=False)
    )
    alice, bob = CustomerFactory(name="Alice Example"), CustomerFactory(name="Bob Example")
    join(group, alice, bob)
    give(bob, "1.00")
    return group, alice, bob


@pytest.mark.parametrize(
    "role,expected", [("owner", 202), ("admin", 202), ("staff", 403), ("readonly", 403)]
)
def test_group_cashback_by_role(api, promo, role, expected):
    group, alice, bob = promo
    response = api[role].post(f"/api/groups/{group.pk}/cashback/", BODY, format="json")
    assert response.status_code == expected, response.content
    if expected == 202:
        job = job_run(response.json()["id"])
        assert job.state == Job.State.SUCCEEDED, job.error
        assert balance_of(alice, Book.CASHBACK) == Decimal("5.00")
        assert balance_of(bob, Book.CASHBACK) == Decimal("6.00")
        assert response["Location"] == f"/api/jobs/{job.pk}/"
    else:
        assert not Job.objects.exists()


def test_group_cashback_anonymous_is_refused(api, promo):
    group, _, _ = promo
    response = api["anon"].post(f"/api/groups/{group.pk}/cashback/", BODY, format="json")
    assert response.status_code in (401, 403)


def test_group_cashback_bad_input_is_keyed_by_field(api, promo):
    group, _, _ = promo
    response = api["owner"].post(
        f"/api/groups/{group.pk}/cashback/", {**BODY, "comment": ""}, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()
    response = api["owner"].post(
        f"/api/groups/{group.pk}/cashback/", {**BODY, "amount": "5.001"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    assert api["owner"].post("/api/groups/999999/cashback/", BODY, format="json").status_code == 404


def test_idempotency_key_replay_and_a_different_body(api, promo):
    group, alice, _ = promo
    url = f"/api/groups/{group.pk}/cashback/"
    first = api["owner"].post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 202
    job_run(first.json()["id"])
    again = api["owner"].post(url, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert Job.objects.count() == 1
    assert balance_of(alice, Book.CASHBACK) == Decimal("5.00")  # never twice
    different = api["owner"].post(
        url, {**BODY, "amount": "50.00"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )
    assert different.status_code == 422
    assert "different request" in different.json()["detail"]
    assert Job.objects.count() == 1


def test_group_cashback_preview(api, promo):
    group, _, _ = promo
    response = api["owner"].post(
        f"/api/groups/{group.pk}/cashback/preview/",
        {**BODY, "amount": "-1.00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["matched"], data["will_change"], data["below_zero"]) == (2, 1, 1)
    assert data["sample"][0]["before"] == "£1.00"
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_customer_cashback_get_by_role(api, promo, role):
    _, _, bob = promo
    response = api[role].get(f"/api/customers/{bob.pk}/cashback/")
    assert response.status_code == 200
    data = response.json()
    assert data["balance"] == "1.00"
    assert data["entries"][0]["reason"] == "start"
    assert data["entries"][0]["book"] == "cashback"


@pytest.mark.parametrize(
    "role,expected", [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403)]
)
def test_customer_cashback_post_by_role(api, promo, role, expected):
    _, _, bob = promo
    response = api[role].post(
        f"/api/customers/{bob.pk}/cashback/",
        {"mode": "absolute", "amount": "7.50", "comment": "Goodwill"},
        format="json",
    )
    assert response.status_code == expected, response.content
    assert balance_of(bob, Book.CASHBACK) == Decimal("7.50" if expected == 201 else "1.00")
    if expected == 201:
        assert response.json()["reason"] == "Goodwill"
        assert response.json()["kind"] == "cashback_set"


def test_customer_cashback_below_zero_and_missing_comment(api, promo):
    _, _, bob = promo
    url = f"/api/customers/{bob.pk}/cashback/"
    response = api["owner"].post(
        url, {"mode": "relative", "amount": "-2.00", "comment": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "below zero" in response.json()["amount"][0]
    response = api["owner"].post(url, {"mode": "relative", "amount": "2.00"}, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()


def test_restricted_admin_cannot_reach_a_customer_outside_their_groups(api, admin_user, promo):
    group, alice, bob = promo
    north = GroupFactory(name="North", group_set=GroupSetFactory(name="Regions"))
    join(north, alice)
    admin_user.restricted_groups.set([north])
    url = f"/api/customers/{bob.pk}/cashback/"
    assert api["admin"].get(url).status_code == 404
    response = api["admin"].post(
        url, {"mode": "relative", "amount": "1.00", "comment": "x"}, format="json"
    )
    assert response.status_code == 404
    assert balance_of(bob, Book.CASHBACK) == Decimal("1.00")
    # The group run reaches Alice only, and the preview says one is left out.
    preview = api["admin"].post(f"/api/groups/{group.pk}/cashback/preview/", BODY, format="json")
    assert preview.json()["left_out"] == 1
    job = job_run(
        api["admin"].post(f"/api/groups/{group.pk}/cashback/", BODY, format="json").json()["id"]
    )
    assert job.state == Job.State.SUCCEEDED, job.error
    assert balance_of(alice, Book.CASHBACK) == Decimal("5.00")
    assert balance_of(bob, Book.CASHBACK) == Decimal("1.00")


def test_undo_through_the_api(api, promo):
    group, alice, _ = promo
    job = job_run(
        api["owner"].post(f"/api/groups/{group.pk}/cashback/", BODY, format="json").json()["id"]
    )
    response = api["owner"].post(
        "/api/cashback/undo/", {"run": job.result_summary["run"]}, format="json"
    )
    assert response.status_code == 202
    assert job_run(response.json()["id"]).state == Job.State.SUCCEEDED
    assert balance_of(alice, Book.CASHBACK) == Decimal("0.00")
    assert (
        api["staff"]
        .post("/api/cashback/undo/", {"run": job.result_summary["run"]}, format="json")
        .status_code
        == 403
    )


def test_schema_documents_the_endpoints_and_the_header(api):
    schema = api["owner"].get("/api/schema/?format=json").json()
    group = schema["paths"]["/api/groups/{group_id}/cashback/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in group["parameters"])
    customer = schema["paths"]["/api/customers/{customer_pk}/cashback/"]
    assert {"get", "post"} <= set(customer)
    assert any(p["name"] == "Idempotency-Key" for p in customer["post"]["parameters"])


def test_customer_adjustment_idempotency(api, promo):
    _, _, bob = promo
    url = f"/api/customers/{bob.pk}/cashback/"
    body = {"mode": "relative", "amount": "2.00", "comment": "Retry safe"}
    first = api["owner"].post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    again = api["owner"].post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="adj-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert balance_of(bob, Book.CASHBACK) == Decimal("3.00")
    different = api["owner"].post(
        url, {**body, "amount": "3.00"}, format="json", HTTP_IDEMPOTENCY_KEY="adj-1"
    )
    assert different.status_code == 422
    assert "different request" in different.json()["detail"]
    assert balance_of(bob, Book.CASHBACK) == Decimal("3.00")
