"""Customer export: the list's own filters, segments and selections, as the actor sees them."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import CustomerTag, GroupMembership
from patron.imports.exporting import export_path
from patron.imports.jobs import EXPORT_JOB
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from tests.conftest import token_client
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    GroupFactory,
    TagFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def people(db):
    vip = TagFactory(name="VIP")
    north, south = GroupFactory(name="North"), GroupFactory(name="South")
    ann = CustomerFactory(account_number="E1", name="Ann", service_city="Leeds")
    bob = CustomerFactory(account_number="E2", name="Bob", service_city="York")
    cat = CustomerFactory(account_number="E3", name="Cat", service_city="Leeds", archived=True)
    CustomerTag.objects.create(customer=ann, tag=vip)
    for customer, group in ((ann, north), (bob, south), (cat, north)):
        GroupMembership.objects.create(
            customer=customer, group=group, group_set=group.group_set, exclusive=True
        )
    ContactFactory(customer=ann, name="Ann Main", email="ann@example.com", is_primary=True)
    ContactFactory(customer=ann, name="Ann Second", email="", phone="", mobile="+447400123456")
    return {"ann": ann, "bob": bob, "cat": cat, "vip": vip, "north": north, "south": south}


def export(actor, filter_value, file_format="csv"):
    job = job_enqueue(
        actor=actor, kind=EXPORT_JOB, params={"format": file_format, "filter": filter_value}
    )
    return job_run(job.pk)


def csv_rows(job):
    path = export_path(job.result_summary["file"])
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_of_the_whole_list_leaves_archived_accounts_out(actor, people):
    job = export(actor, "")
    assert job.state == Job.State.SUCCEEDED, job.error
    rows = csv_rows(job)
    assert [r["account_number"] for r in rows] == ["E1", "E2"]
    ann = rows[0]
    assert (ann["name"], ann["tags"], ann["groups"], ann["city"]) == (
        "Ann",
        "VIP",
        "North",
        "Leeds",
    )
    assert (ann["contact_name"], ann["contact_email"]) == ("Ann Main", "ann@example.com")
    assert (ann["contact2_name"], ann["contact2_mobile"]) == ("Ann Second", "'+447400123456")
    assert job.result_summary["rows"] == 2 and job.result_summary["message"] == (
        "Exported 2 customers to CSV."
    )


def test_export_uses_the_list_filters(actor, people):
    rows = csv_rows(export(actor, f"tag={people['vip'].pk}"))
    assert [r["account_number"] for r in rows] == ["E1"]
    rows = csv_rows(export(actor, {"city": "york"}))
    assert [r["account_number"] for r in rows] == ["E2"]
    rows = csv_rows(export(actor, "archived=all"))
    assert [r["account_number"] for r in rows] == ["E1", "E2", "E3"]


def test_export_of_a_selection_by_ids(actor, people):
    ids = f"ids={people['bob'].pk}&ids={people['ann'].pk}"
    assert [r["account_number"] for r in csv_rows(export(actor, ids))] == ["E1", "E2"]


def test_export_of_a_segment_query(actor, people):
    rows = csv_rows(export(actor, {"q": "tag:VIP"}))
    assert [r["account_number"] for r in rows] == ["E1"]


def test_bad_filters_are_refused_before_a_job_is_created(actor, people):
    with pytest.raises(ValidationError) as raised:
        job_enqueue(actor=actor, kind=EXPORT_JOB, params={"format": "pdf", "filter": "tag=999"})
    assert set(raised.value.message_dict) == {"format", "tag"}
    with pytest.raises(ValidationError) as raised:
        job_enqueue(actor=actor, kind=EXPORT_JOB, params={"filter": {"q": "tag:(vip"}})
    assert "q" in raised.value.message_dict
    with pytest.raises(ValidationError, match="whole numbers"):
        job_enqueue(actor=actor, kind=EXPORT_JOB, params={"filter": "ids=abc"})
    assert Job.objects.count() == 0


def test_xlsx_export(actor, people):
    job = export(actor, "", "xlsx")
    workbook = load_workbook(export_path(job.result_summary["file"]), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("account_number", "external_reference", "name")
    assert [r[0] for r in rows[1:]] == ["E1", "E2"]


def test_text_that_looks_like_a_formula_stays_text_in_xlsx(actor, people):
    people["ann"].notes = "=HYPERLINK(1)"
    people["ann"].save()
    job = export(actor, "", "xlsx")
    workbook = load_workbook(export_path(job.result_summary["file"]))
    sheet = workbook.worksheets[0]
    notes = [c.value for c in sheet[2] if c.value == "=HYPERLINK(1)"]
    assert notes and [c.data_type for c in sheet[2] if c.value == "=HYPERLINK(1)"] == ["s"]


def test_a_restricted_user_exports_only_their_customers(people):
    user = user_with_role(Role.STAFF, username="northern")
    user.restricted_groups.add(people["north"])
    rows = csv_rows(export(Actor(user=user), "archived=all"))
    assert [r["account_number"] for r in rows] == ["E1", "E3"]


def test_custom_field_values_are_exported(actor, people):
    from patron.customfields.models import CustomField

    field = CustomField.objects.create(key="router", label="Router", field_type="text")
    people["ann"].custom_fields = {field.key: "RX-100"}
    people["ann"].save()
    rows = csv_rows(export(actor, ""))
    assert rows[0]["custom:router"] == "RX-100" and rows[1]["custom:router"] == ""


def test_an_export_can_be_imported_again(actor, people):
    """The export columns are import columns: the file passes the import's header check."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patron.imports.services import import_upload

    job = export(actor, "")
    data = export_path(job.result_summary["file"]).read_bytes()
    data = data.replace(b"E1,", b"F1,").replace(b"E2,", b"F2,")
    customer_import = import_upload(actor=actor, upload=SimpleUploadedFile("again.csv", data))
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    assert customer_import.state == "ready", customer_import.errors


def test_export_pages_start_the_job_and_download_the_file(client, owner, people):
    client.force_login(owner)
    url = reverse("imports:export") + f"?tag={people['vip'].pk}&page=2"
    page = client.get(url)
    assert page.status_code == 200
    assert "1 customer will be exported" in page.content.decode()
    response = client.post(
        reverse("imports:export"), {"format": "csv", "query": page.context["query"]}
    )
    job = Job.objects.get(kind=EXPORT_JOB)
    assert response.url == reverse("imports:export_detail", args=[job.pk])
    assert job.params == {"format": "csv", "filter": {"tag": [str(people["vip"].pk)]}}
    job_run(job.pk)
    detail = client.get(response.url)
    assert reverse("imports:export_download", args=[job.pk]) in detail.content.decode()
    download = client.get(reverse("imports:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="customers-')
    assert b"E1" in b"".join(download.streaming_content)


def test_export_page_explains_a_bad_filter(client, owner, people):
    client.force_login(owner)
    page = client.get(reverse("imports:export") + "?q=tag:(")
    assert page.status_code == 200 and page.context["problems"]
    assert Job.objects.count() == 0


def test_someone_elses_export_is_not_found(client, actor, people, staff):
    job = export(actor, "")
    client.force_login(staff)
    assert client.get(reverse("imports:export_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("imports:export_detail", args=[job.pk])).status_code == 404


def test_export_api_starts_a_job_and_serves_the_file(owner, people, readonly):
    api = token_client(owner)
    response = api.post(
        "/api/exports/", {"format": "csv", "filter": {"city": "Leeds"}}, format="json"
    )
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert api.get(f"/api/exports/{job_id}/download/").status_code == 404
    job_run(job_id)
    download = api.get(f"/api/exports/{job_id}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    assert [r["account_number"] for r in csv.DictReader(io.StringIO(body))] == ["E1"]
    bad = api.post("/api/exports/", {"format": "doc"}, format="json")
    assert bad.status_code == 400 and "format" in bad.json()


def test_export_needs_permission_to_view_customers(people):
    nobody = user_with_role(Role.READ_ONLY, username="nobody")
    nobody.role.permissions.clear()
    with pytest.raises(PermissionDenied):
        job_enqueue(actor=Actor(user=nobody), kind=EXPORT_JOB, params={"filter": ""})
