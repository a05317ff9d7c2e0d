"""Billing pages (#10): runs previewed then started as jobs, invoices and credit notes,
usage charges from a CSV, and the customer overview's Invoices card."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from patron.accounts.models import User
from patron.billing.models import Invoice, UsageCharge
from patron.billing.runs import billing_run
from patron.catalogue import services as catalogue
from patron.core.actor import Actor
from patron.customers import services as customer_services
from patron.groups.models import GroupSet
from patron.jobs.models import Job
from patron.jobs.services import job_run
from patron.ledger.models import LedgerEntry
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory, GroupFactory

pytestmark = pytest.mark.django_db

D = Decimal
DEC1 = datetime.date(2026, 12, 1)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


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
def customer(actor, fibre):
    customer = CustomerFactory(name="Ada Lovelace", account_number="ADA1")
    subscriptions.customer_service_add(
        actor=actor,
        customer=customer,
        service=fibre,
        data={"start_date": datetime.date(2026, 11, 1)},
    )
    return customer


@pytest.fixture
def invoice(actor, customer):
    billing_run(actor=actor, billing_date=DEC1)
    return Invoice.objects.get(customer=customer)


@pytest.fixture
def restricted_staff(staff):
    """Staff limited to the North group, which holds no customer of these tests."""
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    staff.restricted_groups.set([north])
    return User.objects.get(pk=staff.pk), north


# --- Who may open what -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_every_role_sees_the_billing_pages(users, role, invoice):
    client = client_for(users[role])
    for url in (
        reverse("billing:runs"),
        reverse("billing:run", args=[invoice.run_id]),
        reverse("billing:invoices"),
        reverse("billing:invoice", args=[invoice.pk]),
        reverse("billing:usage"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("billing:runs")).content.decode()
    assert ("New billing run" in page) == (role in {"owner", "admin"})
    assert 'href="/billing/"' in client.get("/customers/").content.decode()


def test_only_credit_note_holders_see_the_credit_form(users, invoice):
    url = reverse("billing:invoice", args=[invoice.pk])
    assert "Issue credit note" in client_for(users["admin"]).get(url).content.decode()
    assert "Issue credit note" not in client_for(users["staff"]).get(url).content.decode()
    response = client_for(users["staff"]).post(
        reverse("billing:invoice_credit", args=[invoice.pk]), {"reason": "x"}
    )
    assert response.status_code == 403


def test_staff_cannot_start_a_run_or_upload_usage(staff):
    client = client_for(staff)
    assert client.post(reverse("billing:runs"), {"billing_date": "2026-12-01"}).status_code == 403
    assert client.post(reverse("billing:usage"), {}).status_code == 403
    assert not Job.objects.exists()


def test_a_restricted_user_sees_only_their_customers_invoices(restricted_staff, invoice):
    user, north = restricted_staff
    client = client_for(user)
    assert client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 404
    listing = client.get(reverse("billing:invoices")).content.decode()
    assert invoice.number not in listing
    run_page = client.get(reverse("billing:run", args=[invoice.run_id])).content.decode()
    assert invoice.number not in run_page and "Totals of your customers" in run_page
    assert "£54.00" not in client.get(reverse("billing:runs")).content.decode()
    overview = client.get(reverse("customers:detail", args=[invoice.customer_id]))
    assert overview.status_code == 404
    # Once the customer is in their group, they see it.
    customer_services.customer_groups_set(
        actor=Actor.system_actor("tests"), customer=invoice.customer, groups=[north]
    )
    user = User.objects.get(pk=user.pk)
    client = client_for(user)
    assert client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 200


def test_a_restricted_user_may_not_run_billing_and_is_told_on_the_form(restricted_staff, customer):
    user, _ = restricted_staff
    from patron.accounts.models import Role

    role = Role.objects.get(pk=user.role_id)
    from django.contrib.auth.models import Permission

    role.permissions.add(Permission.objects.get(codename="run_billing"))
    user = User.objects.get(pk=user.pk)
    response = client_for(user).post(reverse("billing:runs"), {"billing_date": "2026-12-01"})
    assert response.status_code == 400
    assert "you see only some customers" in response.content.decode()
    assert not Job.objects.exists()


# --- Runs: preview, then start ---------------------------------------------------------


def test_the_form_proposes_the_next_billing_date(owner, settings, invoice):
    settings.PATRON_BILLING_DAY = 1
    page = client_for(owner).get(reverse("billing:runs")).content.decode()
    assert 'value="2027-01-01"' in page  # the month after the last done run
    assert "1 Dec 2026" in page and "£54.00" in page and "olivia" in page.lower()


def test_preview_then_start_the_run(owner, customer):
    client = client_for(owner)
    response = client.post(
        reverse("billing:runs"), {"billing_date": "2026-12-01", "idempotency_key": "k1"}
    )
    preview = Job.objects.get(kind="billing.preview")
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:preview", args=[preview.pk])
    page = client.get(response["Location"]).content.decode()
    assert "hx-get" in page and "Start the run" not in page  # still queued: polling
    job_run(preview.pk)
    partial = client.get(reverse("billing:preview_progress", args=[preview.pk])).content.decode()
    assert "hx-get" not in partial
    assert "1 customer, 1 invoice, £45.00 net, £9.00 tax, £54.00 with tax." in partial
    assert "Ada Lovelace" in partial and "Fibre 500" in partial and "Start the run" in partial
    assert not Invoice.objects.exists()  # the preview billed nothing

    key = f"billing-run-from-preview-{preview.pk}"
    start = client.post(reverse("billing:preview", args=[preview.pk]), {"idempotency_key": key})
    again = client.post(reverse("billing:preview", args=[preview.pk]), {"idempotency_key": key})
    run_job = Job.objects.get(kind="billing.run")  # the second press started nothing new
    assert start["Location"] == again["Location"] == run_job.get_absolute_url()
    assert run_job.params == {"billing_date": "2026-12-01", "cutoff_date": "2026-11-30"}
    job_run(run_job.pk)
    run_job.refresh_from_db()
    assert run_job.state == Job.State.SUCCEEDED
    job_page = client.get(run_job.get_absolute_url()).content.decode()
    assert "progressbar" in job_page and "1 invoice" in job_page
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.gross == D("54.00")
    run_page = client.get(reverse("billing:run", args=[invoice.run_id])).content.decode()
    assert invoice.number in run_page and "£54.00" in run_page


def test_the_form_shows_each_refusal_on_its_field(owner, invoice):
    client = client_for(owner)
    response = client.post(reverse("billing:runs"), {"billing_date": "2026-12-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="billing_date"' in page and "nothing is billed twice" in page
    assert page.count("data-field-error=") == 1
    response = client.post(reverse("billing:runs"), {"billing_date": "2026-12-30"})
    assert "Billing days are the 1st to the 28th" in response.content.decode()
    response = client.post(reverse("billing:runs"), {"billing_date": "soon"})
    assert response.status_code == 400 and 'data-field-error="billing_date"' in (
        response.content.decode()
    )
    response = client.post(
        reverse("billing:runs"), {"billing_date": "2027-01-01", "cutoff_date": "2027-03-01"}
    )
    assert 'data-field-error="cutoff_date"' in response.content.decode()
    assert not Job.objects.filter(kind="billing.preview").exists()


def test_a_preview_that_failed_says_why(owner, invoice):
    job = Job.objects.create(
        kind="billing.preview",
        actor_kind="user",
        actor_user=owner,
        actor_label="olivia",
        params={"billing_date": "2026-12-01", "cutoff_date": "2026-11-30"},
        state=Job.State.FAILED,
        error="Billing for 01 Dec 2026 has been run; nothing is billed twice.",
    )
    client = client_for(owner)
    page = client.get(reverse("billing:preview", args=[job.pk])).content.decode()
    assert "The preview did not finish" in page and "nothing is billed twice" in page
    response = client.post(reverse("billing:preview", args=[job.pk]))
    assert response.status_code == 302 and not Job.objects.filter(kind="billing.run").exists()


def test_another_users_preview_and_other_jobs_are_not_found(owner, admin_user, staff, customer):
    client = client_for(owner)
    client.post(reverse("billing:runs"), {"billing_date": "2026-12-01"})
    preview = Job.objects.get(kind="billing.preview")
    url = reverse("billing:preview", args=[preview.pk])
    # Administrators see every job; Staff only their own, so another's preview is a 404.
    assert client_for(admin_user).get(url).status_code == 200
    assert client_for(staff).get(url).status_code == 404
    other = Job.objects.create(kind="customers.bulk_tag", actor_kind="system", actor_label="x")
    assert client.get(reverse("billing:preview", args=[other.pk])).status_code == 404


# --- Invoices ----------------------------------------------------------------------------


def test_the_invoice_page(owner, invoice):
    page = client_for(owner).get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert invoice.number in page and "Ada Lovelace" in page and "Fibre 500" in page
    assert "1 Dec 2026 – 31 Dec 2026" in page and "£54.00" in page and "Open" in page
    assert reverse("billing:invoice_pdf", args=[invoice.pk]) in page


def test_an_invoice_is_never_edited_the_page_offers_a_credit_note(owner, invoice):
    client = client_for(owner)
    response = client.post(reverse("billing:invoice", args=[invoice.pk]), {"gross": "1.00"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is never changed" in page and "issue a credit note" in page
    invoice.refresh_from_db()
    assert invoice.gross == D("54.00")


def test_the_invoice_list_filters_and_totals(owner, actor, fibre, invoice):
    other = CustomerFactory(name="Bob Other")
    client = client_for(owner)
    page = client.get(reverse("billing:invoices")).content.decode()
    assert invoice.number in page and "£54.00" in page
    page = client.get(reverse("billing:invoices"), {"customer": other.pk}).content.decode()
    assert invoice.number not in page and "<strong>0</strong> invoices" in page
    page = client.get(
        reverse("billing:invoices"), {"customer": invoice.customer_id, "period": "2026-12"}
    ).content.decode()
    assert invoice.number in page and "<strong>1</strong> invoice" in page
    page = client.get(reverse("billing:invoices"), {"period": "2027-02"}).content.decode()
    assert invoice.number not in page
    page = client.get(reverse("billing:invoices"), {"kind": "credit_note"}).content.decode()
    assert invoice.number not in page
    bad = client.get(reverse("billing:invoices"), {"period": "December"})
    assert bad.status_code == 200 and "YYYY-MM" in bad.content.decode()


def test_issue_a_credit_note_from_the_form(admin_user, invoice):
    client = client_for(admin_user)
    url = reverse("billing:invoice_credit", args=[invoice.pk])
    line = invoice.lines.get()
    page = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert f'value="{line.pk}"' in page and "checked" in page  # every line by default
    missing = client.post(url, {"lines": [line.pk]})
    assert missing.status_code == 400
    assert "Say why the invoice is credited" in missing.content.decode()
    response = client.post(url, {"reason": "Installed late", "lines": [line.pk]})
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert response["Location"] == note.get_absolute_url()
    assert note.gross == D("-54.00") and note.corrects == invoice
    note_page = client.get(note.get_absolute_url()).content.decode()
    assert "Installed late" in note_page and invoice.number in note_page
    original = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert note.number in original and "Every line of this invoice has been credited" in original
    twice = client.post(url, {"reason": "Again", "lines": [line.pk]})
    assert twice.status_code == 400 and Invoice.objects.count() == 2
    assert LedgerEntry.objects.filter(kind="credit_note").count() == 1


def test_the_pdf_link_serves_the_pdf_or_says_why_not(owner, invoice, monkeypatch):
    from patron.core.pdf import PdfUnavailable

    url = reverse("billing:invoice_pdf", args=[invoice.pk])
    documents = pytest.importorskip("patron.billing.documents")

    def unavailable(invoice):
        raise PdfUnavailable("WeasyPrint needs libpango-1.0-0.")

    monkeypatch.setattr(documents, "invoice_pdf", unavailable)
    response = client_for(owner).get(url)
    assert response.status_code == 503
    page = response.content.decode()
    assert "PDF not available" in page and "libpango" in page and "Patron" in page
    monkeypatch.setattr(documents, "invoice_pdf", lambda invoice: b"%PDF-1.7 test")
    response = client_for(owner).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert invoice.number in response["Content-Disposition"]


# --- Usage charges -----------------------------------------------------------------------


def upload(client, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("usage.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("billing:usage"), {"file": file})


HEADER = "account_number,date,description,amount,service,quantity,reference\n"


def test_a_usage_csv_with_a_bad_row_adds_nothing_and_names_the_row(admin_user, customer):
    client = client_for(admin_user)
    response = upload(
        client,
        HEADER
        + "ADA1,2026-11-20,UK calls,4.50,,12,c-1\n"
        + "NOPE,2026-11-21,UK calls,1.00,,,c-2\n"
        + "ADA1,yesterday,UK calls,1.005,,,c-3\n",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "2 rows cannot be added, so nothing was added" in page
    assert "Row 2</span> (line 3 of the file)" in page and "NOPE" in page
    assert "Row 3</span> (line 4 of the file)" in page and "not a date" in page
    assert "at most 2 decimals" in page
    assert not UsageCharge.objects.exists()


def test_a_usage_csv_is_added_and_duplicates_are_counted(admin_user, customer):
    client = client_for(admin_user)
    text = HEADER + "ADA1,2026-11-20,UK calls,4.50,,12,c-1\nADA1,2026-11-21,Roaming,2.00,,,c-2\n"
    response = upload(client, text)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Added 2 usage charges (£6.50)" in page and "UK calls" in page
    page = client.get(upload(client, text)["Location"]).content.decode()
    assert "Added 0 usage charges" in page and "2 already there" in page
    assert UsageCharge.objects.count() == 2
    assert "Roaming" not in client.get(reverse("billing:usage"), {"billed": "yes"}).content.decode()
    assert "Roaming" in client.get(reverse("billing:usage"), {"customer": "ADA1"}).content.decode()


def test_a_usage_csv_with_a_wrong_header_is_refused(admin_user, customer):
    response = upload(client_for(admin_user), "account,when,amount\nADA1,2026-11-20,1.00\n")
    assert response.status_code == 400
    assert "Unknown columns: account, when" in response.content.decode()


# --- The customer overview card ----------------------------------------------------------


def test_the_overview_card_shows_the_invoice(owner, settings, invoice):
    settings.PATRON_BILLING_DAY = 1
    page = client_for(owner).get(reverse("customers:detail", args=[invoice.customer_id]))
    html = page.content.decode()
    assert 'data-testid="invoices-card"' in html
    assert "Billing day 1 (the default)" in html
    assert "1 Dec 2026 – 31 Dec 2026" in html and "1 Jan 2027" in html
    assert invoice.number in html and "£54.00" in html
    assert f"{reverse('billing:invoices')}?customer={invoice.customer_id}" in html


def test_the_overview_card_uses_the_customers_own_billing_day(owner, customer):
    type(customer).objects.filter(pk=customer.pk).update(billing_day=15)
    html = client_for(owner).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Billing day 15<" in html and "No invoices yet." in html
