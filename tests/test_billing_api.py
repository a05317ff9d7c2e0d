"""Billing in the REST API: usage charges in, billing runs as jobs, invoices and credit
notes out, each endpoint under every role and for a user restricted to a group."""

import datetime
from decimal import Decimal

import pytest

from patron.accounts.models import User
from patron.billing.models import BillingRun, Invoice, UsageCharge
from patron.billing.runs import billing_run
from patron.catalogue import services as catalogue
from patron.core.actor import Actor
from patron.customers import services as customer_services
from patron.groups.models import GroupSet
from patron.jobs.models import Job
from patron.jobs.services import job_run
from patron.ledger.services import balance_of
from patron.subscriptions import services as subscriptions
from tests.conftest import token_client
from tests.factories import CustomerFactory, GroupFactory, StatusFactory

pytestmark = pytest.mark.django_db

D = Decimal
DEC1 = datetime.date(2026, 12, 1)
ROLES = ["owner", "admin", "staff", "readonly"]
MAY_BILL = {"owner": True, "admin": True, "staff": False, "readonly": False}


@pytest.fixture
def fibre(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")},
    )


@pytest.fixture
def calls(actor, fibre):
    return catalogue.service_create(
        actor=actor,
        data={
            "code": "UKCALLS",
            "name": "UK calls",
            "kind": "usage",
            "price": D("0.05"),
            "unit": "minute",
        },
    )


def add_service(actor, customer, service, **data):
    data.setdefault("start_date", datetime.date(2026, 11, 1))
    return subscriptions.customer_service_add(
        actor=actor, customer=customer, service=service, data=data
    )


@pytest.fixture
def billed(actor, fibre):
    """Two customers with Fibre 500 since November, billed on 1 Dec 2026 (£54.00 each)."""
    ann, bob = CustomerFactory(name="Ann Archer"), CustomerFactory(name="Bob Brown")
    for customer in (ann, bob):
        add_service(actor, customer, fibre)
    run, _ = billing_run(actor=actor, billing_date=DEC1)
    return {
        "run": run,
        "ann": ann,
        "bob": bob,
        "ann_invoice": Invoice.objects.get(customer=ann),
        "bob_invoice": Invoice.objects.get(customer=bob),
    }


def restrict_to_north(user, *customers):
    region, _ = GroupSet.objects.get_or_create(name="Region", defaults={"single_choice": False})
    north = region.groups.filter(name="North").first() or GroupFactory(
        group_set=region, name="North"
    )
    for customer in customers:
        customer_services.customer_groups_set(
            actor=Actor.system_actor("tests"), customer=customer, groups=[north]
        )
    user.restricted_groups.set([north])
    return User.objects.get(pk=user.pk)


def usage_row(customer, **extra):
    return {
        "customer": customer.pk,
        "date": "2026-11-03",
        "description": "UK calls, November",
        "amount": "1.25",
        **extra,
    }


# --- /api/usage-charges/ -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_usage_charges(api, role, calls):
    customer = CustomerFactory()
    UsageCharge.objects.create(
        customer=customer, date=datetime.date(2026, 11, 2), description="calls", amount=D("2.50")
    )
    response = api[role].get("/api/usage-charges/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["amount"] == "2.50" and row["billed"] is False and row["invoice"] is None


def test_anonymous_gets_nothing(api):
    for url in ("/api/usage-charges/", "/api/billing-runs/", "/api/invoices/"):
        assert api["anon"].get(url).status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_owners_and_administrators_add_usage(api, role, calls):
    """Staff and Read-only get the service's own message and nothing is added."""
    customer = CustomerFactory()
    response = api[role].post(
        "/api/usage-charges/", usage_row(customer, service="UKCALLS"), format="json"
    )
    if MAY_BILL[role]:
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["created"] == 1 and body["duplicates"] == 0
        charge = UsageCharge.objects.get(pk=body["ids"][0])
        assert charge.customer == customer and charge.amount == D("1.25")
        assert charge.service.code == "UKCALLS"
    else:
        assert response.status_code == 403
        assert response.json()["detail"] == "Your role does not allow you to add usage charges."
        assert not UsageCharge.objects.exists()


def test_bulk_usage_with_one_bad_row_adds_nothing_and_names_the_row(api, calls):
    customers = [CustomerFactory() for _ in range(3)]
    rows = [usage_row(c, reference=f"cdr-{i}") for i, c in enumerate(customers)]
    rows.insert(1, {**usage_row(customers[0]), "customer": 999999, "reference": "cdr-x"})
    rows.append(usage_row(customers[1], amount="1.234", reference="cdr-y"))
    response = api["admin"].post("/api/usage-charges/", rows, format="json")
    assert response.status_code == 400
    errors = response.json()["rows"]
    assert [e["row"] for e in errors] == [2, 5]
    assert "999999" in errors[0]["customer"]
    assert "decimals" in errors[1]["amount"]
    assert not UsageCharge.objects.exists()


def test_bulk_usage_adds_every_row_and_counts_duplicates(api, calls):
    customers = [CustomerFactory() for _ in range(3)]
    rows = [
        usage_row(c, reference=f"cdr-{i}-{n}") for i, c in enumerate(customers) for n in range(40)
    ]
    response = api["owner"].post("/api/usage-charges/", rows, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 120 and body["duplicates"] == 0 and len(set(body["ids"])) == 120
    again = api["owner"].post("/api/usage-charges/", rows[:10], format="json")
    assert again.status_code == 201
    assert again.json() == {"created": 0, "duplicates": 10, "ids": []}
    assert UsageCharge.objects.count() == 120


def test_usage_bodies_that_are_not_charges_are_refused(api, calls):
    assert api["owner"].post("/api/usage-charges/", [], format="json").status_code == 400
    response = api["owner"].post(
        "/api/usage-charges/", [usage_row(CustomerFactory()), "x"], format="json"
    )
    assert response.status_code == 400 and response.json()["rows"][0]["row"] == 2
    too_many = [{"customer": 1}] * 50_001
    response = api["owner"].post("/api/usage-charges/", too_many, format="json")
    assert response.status_code == 400 and "50,000" in str(response.json())
    assert not UsageCharge.objects.exists()


def test_usage_list_filters(api, actor, calls, fibre):
    ann, bob = CustomerFactory(), CustomerFactory()
    add_service(actor, ann, fibre)
    old = UsageCharge.objects.create(
        customer=ann, date=datetime.date(2026, 11, 2), description="calls", amount=D("2.00")
    )
    billing_run(actor=actor, billing_date=DEC1)
    new = UsageCharge.objects.create(
        customer=ann, date=datetime.date(2026, 12, 5), description="calls", amount=D("1.00")
    )
    other = UsageCharge.objects.create(
        customer=bob, date=datetime.date(2026, 12, 6), description="calls", amount=D("1.00")
    )

    def ids(query):
        response = api["staff"].get(f"/api/usage-charges/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"customer={ann.pk}") == {old.pk, new.pk}
    assert ids("billed=true") == {old.pk}
    assert ids("billed=false") == {new.pk, other.pk}
    assert ids("date_after=2026-12-05&date_before=2026-12-05") == {new.pk}
    assert ids("date_before=2026-11-30") == {old.pk}
    billed_row = api["staff"].get(f"/api/usage-charges/{old.pk}/").json()
    assert billed_row["billed"] is True
    assert billed_row["invoice"] == Invoice.objects.get(customer=ann).pk


def test_restricted_user_sees_and_adds_usage_of_their_customers_only(api, admin_user, calls):
    ann, bob = CustomerFactory(), CustomerFactory()
    admin = restrict_to_north(admin_user, ann)
    mine = UsageCharge.objects.create(
        customer=ann, date=datetime.date(2026, 11, 2), description="calls", amount=D("2.00")
    )
    theirs = UsageCharge.objects.create(
        customer=bob, date=datetime.date(2026, 11, 2), description="calls", amount=D("2.00")
    )
    client = token_client(admin)
    listed = client.get("/api/usage-charges/").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(f"/api/usage-charges/{theirs.pk}/").status_code == 404
    response = client.post("/api/usage-charges/", [usage_row(bob)], format="json")
    assert response.status_code == 400
    assert "outside your reach" in response.json()["rows"][0]["customer"]
    assert UsageCharge.objects.count() == 2


# --- /api/billing-runs/ --------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_starting_a_run_is_for_owners_and_administrators(api, role, fibre):
    response = api[role].post("/api/billing-runs/", {"billing_date": "2026-12-01"}, format="json")
    if MAY_BILL[role]:
        assert response.status_code == 202, response.json()
        job = Job.objects.get()
        body = response.json()
        assert body["id"] == job.pk and job.kind == "billing.run"
        assert body["url"].endswith(f"/api/jobs/{job.pk}/")
        assert response["Location"] == f"/api/jobs/{job.pk}/"
        assert job.params == {"billing_date": "2026-12-01", "cutoff_date": "2026-11-30"}
    else:
        assert response.status_code == 403
        assert response.json()["detail"] == "Your role does not allow you to run “Billing run”."
        assert not Job.objects.exists()


def test_a_preview_is_its_own_job_type(api, fibre):
    response = api["admin"].post(
        "/api/billing-runs/",
        {"billing_date": "2026-12-01", "cutoff_date": "2026-11-25", "preview": True},
        format="json",
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.kind == "billing.preview" and job.params["cutoff_date"] == "2026-11-25"


def test_the_idempotency_key_replays_the_same_job(api, fibre):
    def start(key):
        return api["owner"].post(
            "/api/billing-runs/",
            {"billing_date": "2026-12-01"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first, again = start("bill-dec-2026"), start("bill-dec-2026")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1
    assert Job.objects.get().idempotency_key == "bill-dec-2026"


def test_the_run_job_bills_and_the_run_is_listed_with_its_job(api, actor, fibre):
    customer = CustomerFactory()
    add_service(actor, customer, fibre)
    response = api["owner"].post(
        "/api/billing-runs/", {"billing_date": "2026-12-01"}, format="json"
    )
    job_run(response.json()["id"])
    job = Job.objects.get()
    assert job.state == Job.State.SUCCEEDED, job.error
    for role in ROLES:
        listed = api[role].get("/api/billing-runs/")
        assert listed.status_code == 200
        (run,) = listed.json()["results"]
        assert run["billing_date"] == "2026-12-01" and run["state"] == "done"
        assert run["job"] == job.pk and run["job_url"].endswith(f"/api/jobs/{job.pk}/")
        assert (run["net_total"], run["tax_total"], run["gross_total"]) == (
            "45.00",
            "9.00",
            "54.00",
        )
        assert run["invoice_count"] == 1 and run["summary"]["invoices"] == 1
        detail = api[role].get(f"/api/billing-runs/{run['id']}/")
        assert detail.status_code == 200 and detail.json()["period_end"] == "2026-12-31"
    assert balance_of(customer) == D("54.00")


def test_a_second_run_for_the_same_date_is_refused(api, billed):
    response = api["owner"].post(
        "/api/billing-runs/", {"billing_date": "2026-12-01"}, format="json"
    )
    assert response.status_code == 400
    assert "nothing is billed twice" in response.json()["billing_date"][0]
    assert not Job.objects.exists()


def test_bad_billing_dates_are_refused_with_the_reason(api, fibre):
    late = api["owner"].post("/api/billing-runs/", {"billing_date": "2026-12-29"}, format="json")
    assert late.status_code == 400
    assert "1st to the 28th" in late.json()["billing_date"][0]
    cutoff = api["owner"].post(
        "/api/billing-runs/",
        {"billing_date": "2026-12-01", "cutoff_date": "2027-02-01"},
        format="json",
    )
    assert cutoff.status_code == 400 and "cut-off" in cutoff.json()["cutoff_date"][0]
    missing = api["owner"].post("/api/billing-runs/", {}, format="json")
    assert missing.status_code == 400 and "billing_date" in missing.json()
    assert not Job.objects.exists() and not BillingRun.objects.exists()


def test_a_restricted_administrator_cannot_start_a_run(admin_user, fibre):
    admin = restrict_to_north(admin_user, CustomerFactory())
    response = token_client(admin).post(
        "/api/billing-runs/", {"billing_date": "2026-12-01"}, format="json"
    )
    assert response.status_code == 403
    assert "bills the whole installation" in response.json()["detail"]
    assert not Job.objects.exists()


def test_billing_runs_are_read_only(api, billed):
    run = billed["run"]
    for method in ("put", "patch", "delete"):
        response = getattr(api["owner"], method)(f"/api/billing-runs/{run.pk}/", {}, format="json")
        assert response.status_code == 405


# --- /api/invoices/ ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_invoices_with_their_lines(api, role, billed):
    invoice = billed["ann_invoice"]
    listed = api[role].get("/api/invoices/")
    assert listed.status_code == 200
    assert {row["number"] for row in listed.json()["results"]} == {"INV-000001", "INV-000002"}
    response = api[role].get(f"/api/invoices/{invoice.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == invoice.number and body["customer"] == billed["ann"].pk
    assert body["customer_name"] == "Ann Archer"
    assert (body["net"], body["tax"], body["gross"]) == ("45.00", "9.00", "54.00")
    assert body["payment_state"] == "open" and body["amount_paid"] == "0.00"
    assert body["outstanding"] == "54.00"
    assert body["corrects"] is None and body["credit_notes"] == []
    (line,) = body["lines"]
    assert line["description"] == "Fibre 500" and line["gross"] == "54.00"
    assert (line["period_start"], line["period_end"]) == ("2026-12-01", "2026-12-31")


@pytest.mark.parametrize("role", ROLES)
def test_invoices_are_corrected_by_credit_notes_never_edited(api, role, billed):
    """PUT, PATCH and DELETE are 405 for every role, and the answer says what to do."""
    invoice = billed["ann_invoice"]
    for method in ("put", "patch", "delete"):
        response = getattr(api[role], method)(
            f"/api/invoices/{invoice.pk}/", {"net": "1.00"}, format="json"
        )
        assert response.status_code == 405
        assert "corrected by credit notes" in response.json()["detail"]
    invoice.refresh_from_db()
    assert invoice.gross == D("54.00")


@pytest.mark.parametrize("role", ROLES)
def test_credit_notes_through_the_api(api, role, billed):
    invoice = billed["ann_invoice"]
    response = api[role].post(
        f"/api/invoices/{invoice.pk}/credit/", {"reason": "Outage all month"}, format="json"
    )
    if not MAY_BILL[role]:
        assert response.status_code == 403
        assert response.json()["detail"] == "Your role does not allow you to issue credit notes."
        assert Invoice.objects.filter(kind="credit_note").count() == 0
        return
    assert response.status_code == 201, response.json()
    note = response.json()
    assert note["number"] == "CN-000001" and note["kind"] == "credit_note"
    assert note["corrects"] == "INV-000001" and note["corrects_id"] == invoice.pk
    assert note["gross"] == "-54.00" and note["reason"] == "Outage all month"
    assert note["payment_state"] == "issued"
    (line,) = note["lines"]
    assert line["credits"] == invoice.lines.get().pk and line["gross"] == "-54.00"
    assert balance_of(billed["ann"]) == D("0.00")
    detail = api[role].get(f"/api/invoices/{invoice.pk}/").json()
    assert detail["credit_notes"] == ["CN-000001"]
    twice = api[role].post(
        f"/api/invoices/{invoice.pk}/credit/", {"reason": "again"}, format="json"
    )
    assert twice.status_code == 400 and "Already credited" in str(twice.json())


def test_a_credit_note_needs_a_reason_and_lines_of_the_invoice(api, billed):
    invoice, other = billed["ann_invoice"], billed["bob_invoice"]
    url = f"/api/invoices/{invoice.pk}/credit/"
    blank = api["owner"].post(url, {"reason": " "}, format="json")
    assert blank.status_code == 400 and "why" in blank.json()["reason"][0]
    foreign = api["owner"].post(
        url, {"reason": "x", "lines": [other.lines.get().pk]}, format="json"
    )
    assert foreign.status_code == 400 and "lines" in foreign.json()
    chosen = api["owner"].post(
        url, {"reason": "Partial", "lines": [invoice.lines.get().pk]}, format="json"
    )
    assert chosen.status_code == 201
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_the_invoice_filters(api, actor, billed, fibre):
    ann, bob = billed["ann"], billed["bob"]
    ann_inv, bob_inv = billed["ann_invoice"], billed["bob_invoice"]
    Invoice.objects.filter(pk=bob_inv.pk).update(amount_paid=D("54.00"))
    note = (
        api["owner"]
        .post(f"/api/invoices/{ann_inv.pk}/credit/", {"reason": "Outage"}, format="json")
        .json()
    )
    carol = CustomerFactory(billing_day=15)
    add_service(actor, carol, fibre, start_date=datetime.date(2026, 12, 15))
    mid, _ = billing_run(actor=actor, billing_date=datetime.date(2026, 12, 15))
    carol_inv = Invoice.objects.get(customer=carol)
    Invoice.objects.filter(pk=carol_inv.pk).update(amount_paid=D("10.00"))

    def numbers(query):
        response = api["readonly"].get(f"/api/invoices/?{query}")
        assert response.status_code == 200, response.json()
        return {row["number"] for row in response.json()["results"]}

    assert numbers(f"customer={ann.pk}") == {ann_inv.number, note["number"]}
    assert numbers("kind=credit_note") == {note["number"]}
    assert numbers("state=open") == {ann_inv.number}
    assert numbers("state=paid") == {bob_inv.number}
    assert numbers("state=part_paid") == {carol_inv.number}
    assert numbers("state=issued") == {note["number"]}
    assert numbers("q=000001") == {ann_inv.number, note["number"]}
    assert numbers(f"q={bob.account_number.lower()}") == {bob_inv.number}
    assert numbers("q=ann arch") == {ann_inv.number, note["number"]}
    assert numbers(f"run={mid.pk}") == {carol_inv.number}
    assert numbers(f"run={billed['run'].pk}") == {ann_inv.number, bob_inv.number}
    # Carol's invoice covers 15 Dec - 14 Jan: it overlaps December and January.
    dec = {ann_inv.number, bob_inv.number, note["number"], carol_inv.number}
    assert numbers("period=2026-12") == dec
    assert numbers("period=2027-01") == {carol_inv.number}
    assert numbers("period=2026-11") == set()
    # A credit note is issued today; the invoices on their billing dates.
    assert numbers("kind=invoice&issue_date_after=2026-12-02") == {carol_inv.number}
    assert numbers("kind=invoice&issue_date_before=2026-12-01") == {
        ann_inv.number,
        bob_inv.number,
    }
    assert numbers("issue_date_after=2026-12-15&issue_date_before=2026-12-15") >= {carol_inv.number}
    bad = api["readonly"].get("/api/invoices/?period=2026-13")
    assert bad.status_code == 400 and "YYYY-MM" in str(bad.json())
    assert api["readonly"].get("/api/invoices/?state=late").status_code == 400


def test_a_restricted_user_sees_only_their_customers_invoices(api, staff, admin_user, billed):
    ann_inv, bob_inv = billed["ann_invoice"], billed["bob_invoice"]
    sam = restrict_to_north(staff, billed["ann"])
    client = token_client(sam)
    listed = client.get("/api/invoices/").json()["results"]
    assert [row["number"] for row in listed] == [ann_inv.number]
    assert client.get(f"/api/invoices/{ann_inv.pk}/").status_code == 200
    assert client.get(f"/api/invoices/{bob_inv.pk}/").status_code == 404
    assert client.get(f"/api/invoices/{bob_inv.pk}/pdf/").status_code == 404
    assert client.get(f"/api/invoices/?customer={billed['bob'].pk}").json()["results"] == []
    # A restricted Administrator may credit their own customers' invoices, no one else's.
    admin = token_client(restrict_to_north(admin_user, billed["ann"]))
    response = admin.post(f"/api/invoices/{bob_inv.pk}/credit/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    mine = admin.post(f"/api/invoices/{ann_inv.pk}/credit/", {"reason": "x"}, format="json")
    assert mine.status_code == 201
    assert Invoice.objects.filter(kind="credit_note").get().corrects == ann_inv


def test_a_final_bill_carries_its_status_message(api, actor, fibre):
    ceasing = StatusFactory(
        name="Ceasing", final_invoice=True, override_invoice_message="Thank you for being with us."
    )
    customer = CustomerFactory(status=ceasing)
    add_service(actor, customer, fibre, end_date=datetime.date(2026, 12, 15))
    billing_run(actor=actor, billing_date=DEC1)
    invoice = Invoice.objects.get(customer=customer)
    body = api["staff"].get(f"/api/invoices/{invoice.pk}/").json()
    assert body["is_final"] is True and body["message"] == "Thank you for being with us."


def test_billing_is_in_the_openapi_schema(api):
    schema = api["owner"].get("/api/schema/?format=json").json()
    for path in (
        "/api/usage-charges/",
        "/api/usage-charges/{id}/",
        "/api/billing-runs/",
        "/api/billing-runs/{id}/",
        "/api/invoices/",
        "/api/invoices/{id}/",
        "/api/invoices/{id}/pdf/",
        "/api/invoices/{id}/credit/",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/invoices/{id}/"]) == {"get"}
    pdf = schema["paths"]["/api/invoices/{id}/pdf/"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_a_restricted_user_sees_a_run_over_their_own_customers_only(api, staff, billed):
    run = billed["run"]
    assert api["owner"].get(f"/api/billing-runs/{run.pk}/").json()["gross_total"] == "108.00"
    sam = token_client(restrict_to_north(staff, billed["ann"]))
    mine = sam.get(f"/api/billing-runs/{run.pk}/").json()
    assert (mine["invoice_count"], mine["gross_total"], mine["net_total"]) == (1, "54.00", "45.00")
    assert mine["summary"] == {"restricted": True, "invoices": 1}
