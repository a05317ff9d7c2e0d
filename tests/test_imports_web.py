"""Import pages and API: upload, see the per-row errors, apply, follow the job."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patron.customers.models import Customer
from patron.imports.models import CustomerImport
from patron.jobs.models import Job
from patron.jobs.services import job_run
from tests.conftest import token_client
from tests.factories import TagFactory, active_status

pytestmark = pytest.mark.django_db

BAD = "account_number,name,tags\nW1,Ann,VPI\nW2,,\n"
GOOD = "account_number,name,tags\nW1,Ann,VIP\nW2,Bob,\n"


@pytest.fixture(autouse=True)
def setup(settings, tmp_path, db):
    settings.DATA_DIR = tmp_path
    active_status()
    TagFactory(name="VIP")


def test_upload_page_checks_the_file_and_lists_errors(client, owner):
    client.force_login(owner)
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200 and "contact2_mobile" in page.content.decode()
    response = client.post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("bad.csv", BAD.encode())}
    )
    customer_import = CustomerImport.objects.get()
    assert response.url == reverse("imports:detail", args=[customer_import.pk])
    checking = client.get(response.url).content.decode()
    assert "Checking the file" in checking and 'hx-get="' in checking
    job_run(customer_import.check_job_id)
    body = client.get(reverse("imports:status", args=[customer_import.pk])).content.decode()
    assert "Errors to correct (2)" in body
    assert "There is no tag “VPI”. Did you mean “VIP”?" in body
    assert "The name is required." in body
    assert 'hx-get="' not in body, "polling stops once the check has finished"
    refused = client.post(reverse("imports:apply", args=[customer_import.pk]), follow=True)
    assert "Correct them and upload it again" in refused.content.decode()
    assert Customer.objects.count() == 0


def test_a_clean_upload_is_applied_from_its_page(client, owner):
    client.force_login(owner)
    client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("ok.csv", GOOD.encode())})
    customer_import = CustomerImport.objects.get()
    job_run(customer_import.check_job_id)
    page = client.get(customer_import.get_absolute_url()).content.decode()
    assert "Import 2 customers" in page and "Ann" in page
    client.post(reverse("imports:apply", args=[customer_import.pk]))
    customer_import.refresh_from_db()
    job_run(customer_import.apply_job_id)
    done = client.get(customer_import.get_absolute_url()).content.decode()
    assert "Imported ok.csv: created 2, updated 0." in done
    assert set(Customer.objects.values_list("account_number", flat=True)) == {"W1", "W2"}


def test_upload_form_errors(client, owner):
    client.force_login(owner)
    response = client.post(reverse("imports:upload"), {})
    assert response.status_code == 400 and "file" in response.context["form"].errors
    response = client.post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0xx")}
    )
    assert response.status_code == 400
    assert "Excel 97" in response.context["form"].errors["file"][0]


def test_read_only_users_cannot_open_the_import_page(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("imports:upload")).status_code == 403


def test_navigation_offers_import_and_phone_list(client, owner, readonly):
    client.force_login(owner)
    body = client.get(reverse("jobs:list")).content.decode()
    assert reverse("imports:upload") in body and reverse("imports:phone_list") in body
    client.force_login(readonly)
    body = client.get(reverse("jobs:list")).content.decode()
    assert reverse("imports:upload") not in body


def test_import_api_upload_errors_and_apply(owner, staff):
    api = token_client(owner)
    bad = api.post("/api/imports/", {"file": SimpleUploadedFile("bad.csv", BAD.encode())})
    assert bad.status_code == 201, bad.json()
    assert bad.json()["state"] == "checking"
    job_run(bad.json()["check_job"]["id"])
    detail = api.get(f"/api/imports/{bad.json()['id']}/").json()
    assert detail["state"] == "invalid"
    assert detail["errors"] == [
        {"row": 2, "column": "tags", "message": "There is no tag “VPI”. Did you mean “VIP”?"},
        {"row": 3, "column": "name", "message": "The name is required."},
    ]
    refused = api.post(f"/api/imports/{bad.json()['id']}/apply/")
    assert refused.status_code == 400 and "error" in refused.json()["non_field_errors"][0]

    good = api.post("/api/imports/", {"file": SimpleUploadedFile("ok.csv", GOOD.encode())})
    job_run(good.json()["check_job"]["id"])
    started = api.post(f"/api/imports/{good.json()['id']}/apply/")
    assert started.status_code == 202
    job = job_run(started.json()["id"])
    assert job.state == Job.State.SUCCEEDED and job.result_summary["created"] == 2
    assert api.get(f"/api/imports/{good.json()['id']}/").json()["state"] == "applied"
    # Imports are private to the uploader.
    assert token_client(staff).get(f"/api/imports/{good.json()['id']}/").status_code == 404


def test_import_api_refuses_a_missing_file_and_read_only_users(owner, readonly):
    missing = token_client(owner).post("/api/imports/", {})
    assert missing.status_code == 400 and "file" in missing.json()
    denied = token_client(readonly).post(
        "/api/imports/", {"file": SimpleUploadedFile("ok.csv", GOOD.encode())}
    )
    assert denied.status_code == 403
    assert CustomerImport.objects.count() == 0
