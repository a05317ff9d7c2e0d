"""Export files and uploaded customer files expire after PATRON_EXPORT_RETENTION_DAYS.

The hourly scheduler deletes them; an expired export's download answers 410
with "This export expired on DATE; run it again" (page and API), its pages say
"expired", and an import whose file is gone cannot be applied.
"""

import datetime
import os
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from patron.core.actor import Actor
from patron.imports.exporting import export_path
from patron.imports.jobs import EXPORT_JOB
from patron.imports.models import CustomerImport
from patron.imports.retention import exports_expire
from patron.imports.storage import storage_dir
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.ops.schedule import scheduled_pass
from tests.conftest import token_client
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.PATRON_EXPORT_RETENTION_DAYS = 7
    return tmp_path


@pytest.fixture
def export(owner):
    """A finished CSV export of two customers, made by the owner."""
    CustomerFactory(name="Ann")
    CustomerFactory(name="Bob")
    job = job_enqueue(
        actor=Actor(user=owner), kind=EXPORT_JOB, params={"format": "csv", "filter": "q=Ann"}
    )
    job = job_run(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def later(days: float):
    """Travel `days` ahead of now (the files' own dates stay as written)."""
    return time_machine.travel(timezone.now() + datetime.timedelta(days=days), tick=False)


def file_of(job):
    return export_path(job.result_summary["file"])


def expired_text(job) -> str:
    day = timezone.localdate(job.finished_at + datetime.timedelta(days=7))
    return f"This export expired on {date_format(day, 'j F Y')}; run it again."


def test_an_export_is_kept_for_the_retention_period(client, owner, export):
    """Six days on, the scheduler keeps the file; the page says until when."""
    client.force_login(owner)
    detail = client.get(reverse("imports:export_detail", args=[export.pk])).content.decode()
    assert "The file is kept until" in detail and "Expired" not in detail
    with later(6):
        assert scheduled_pass()["exports_expired"] == 0
        client.force_login(owner)
        response = client.get(reverse("imports:export_download", args=[export.pk]))
        assert response.status_code == 200
        assert b"Ann" in b"".join(response.streaming_content)
    assert file_of(export).exists()


def test_an_expired_export_answers_410_with_a_clear_page(client, owner, export):
    """After the retention period the scheduler deletes the file; the download link then
    answers 410 with the expiry date and a way to run the export again."""
    path = file_of(export)
    with later(8):
        result = scheduled_pass()
        assert result["exports_expired"] == 1
        assert not path.exists()
        client.force_login(owner)
        response = client.get(reverse("imports:export_download", args=[export.pk]))
        assert response.status_code == 410
        page = response.content.decode()
        assert expired_text(export) in page
        assert reverse("imports:export") + "?q=Ann" in page
        detail = client.get(reverse("imports:export_detail", args=[export.pk])).content.decode()
        assert "Expired" in detail and "Download the file" not in detail
        job_page = client.get(reverse("jobs:detail", args=[export.pk])).content.decode()
        assert "The file expired on" in job_page
    job = Job.objects.get(pk=export.pk)
    assert job.result_summary["expired_at"]
    assert job.result_summary["message"].startswith("Exported 1 customers to CSV.")


def test_the_api_download_answers_410_once_expired(owner, export):
    api = token_client(owner)
    assert api.get(f"/api/exports/{export.pk}/download/").status_code == 200
    with later(8):
        exports_expire()
        response = api.get(f"/api/exports/{export.pk}/download/")
    assert response.status_code == 410
    assert response.json()["detail"] == expired_text(export)
    assert response.json()["expired_on"] == str(
        timezone.localdate(export.finished_at + datetime.timedelta(days=7))
    )
    job = api.get(f"/api/jobs/{export.pk}/").json()
    assert "expired_at" in job["result_summary"]


def test_past_the_date_the_download_is_gone_even_before_the_scheduler_ran(client, owner, export):
    """The page and the file agree: past its date an export is expired, deleted or not yet."""
    with later(8):
        client.force_login(owner)
        response = client.get(reverse("imports:export_download", args=[export.pk]))
    assert response.status_code == 410
    assert expired_text(export) in response.content.decode()


def test_expiring_is_idempotent_and_a_missing_file_is_no_error(owner, export):
    file_of(export).unlink()
    with later(8):
        first = exports_expire()
        second = exports_expire()
    assert first["exports_expired"] == 1
    assert second == {"exports_expired": 0, "export_files_removed": 0, "import_files_removed": 0}
    message = Job.objects.get(pk=export.pk).result_summary["message"]
    assert message.count("The file expired on") == 1


def test_retention_zero_keeps_exports_for_ever(settings, client, owner, export):
    settings.PATRON_EXPORT_RETENTION_DAYS = 0
    with later(400):
        assert exports_expire()["exports_expired"] == 0
        client.force_login(owner)
        response = client.get(reverse("imports:export_download", args=[export.pk]))
    assert response.status_code == 200
    assert file_of(export).exists()


def test_unfinished_and_failed_exports_are_left_alone_and_stray_files_go(owner, export):
    """A file no job needs goes once it is old; a young one and a running job's stay."""
    folder = storage_dir("exports")
    stray_old = folder / "job-999-abandoned.csv"
    stray_young = folder / "job-998-abandoned.csv"
    running_file = folder / "job-997-running.csv"
    for path in (stray_old, stray_young, running_file):
        path.write_text("account_number\n")
    ten_days_ago = (timezone.now() - datetime.timedelta(days=10)).timestamp()
    os.utime(stray_old, (ten_days_ago, ten_days_ago))
    os.utime(running_file, (ten_days_ago, ten_days_ago))
    Job.objects.create(
        kind=EXPORT_JOB,
        actor_label="owner",
        state=Job.State.RUNNING,
        result_summary={"file": running_file.name},
    )
    result = exports_expire()
    assert result["export_files_removed"] == 1
    assert not stray_old.exists()
    assert stray_young.exists() and running_file.exists() and file_of(export).exists()


def test_dry_run_command_says_what_would_go_and_deletes_nothing(owner, export):
    with later(8):
        out = StringIO()
        call_command("exports_expire", "--dry-run", stdout=out)
        assert "Would delete the files of 1 export(s) older than 7 day(s)" in out.getvalue()
        assert file_of(export).exists()
        assert "expired_at" not in Job.objects.get(pk=export.pk).result_summary
        out = StringIO()
        call_command("exports_expire", stdout=out)
        assert "Deleted the files of 1 export(s)" in out.getvalue()
    assert not file_of(export).exists()


# --- uploaded customer files -----------------------------------------------------------------


def uploaded(owner, state, name):
    """An import row with its file under the data directory."""
    path = storage_dir("imports") / name
    path.write_text("account_number,name\nR1,Rita\n")
    return CustomerImport.objects.create(
        uploaded_by=owner,
        actor_label="owner",
        original_name="list.csv",
        file_format="csv",
        stored_name=name,
        state=state,
        row_count=1,
    )


def test_an_abandoned_upload_is_deleted_and_can_no_longer_be_applied(client, owner):
    """A file left unapplied past the retention period goes; its page says so, and applying
    it answers a clear message on the page and a field error in the API."""
    ready = uploaded(owner, CustomerImport.State.READY, "ready.csv")
    with later(6):
        assert exports_expire()["import_files_removed"] == 0
    assert ready.path.exists()
    with later(8):
        assert exports_expire()["import_files_removed"] == 1
        assert not ready.path.exists()
        client.force_login(owner)
        page = client.get(ready.get_absolute_url()).content.decode()
        assert "The uploaded file was deleted after 7 days without being imported" in page
        assert reverse("imports:apply", args=[ready.pk]) not in page
        refused = client.post(reverse("imports:apply", args=[ready.pk]), follow=True)
        assert "upload it again" in refused.content.decode()
        api = token_client(owner)
        response = api.post(f"/api/imports/{ready.pk}/apply/")
    assert response.status_code == 400
    assert "The uploaded file was deleted" in str(response.json())
    ready.refresh_from_db()
    assert ready.apply_job is None and ready.state == CustomerImport.State.READY


def test_an_applied_upload_left_behind_goes_at_once(owner):
    applied = uploaded(owner, CustomerImport.State.APPLIED, "applied.csv")
    CustomerImport.objects.filter(pk=applied.pk).update(applied_at=timezone.now())
    young = uploaded(owner, CustomerImport.State.READY, "young.csv")
    assert exports_expire()["import_files_removed"] == 1
    assert not applied.path.exists()
    assert young.path.exists()


def test_an_old_upload_being_applied_is_kept(owner):
    old = uploaded(owner, CustomerImport.State.READY, "old.csv")
    job = Job.objects.create(kind="imports.apply_customers", actor_label="o", state="running")
    CustomerImport.objects.filter(pk=old.pk).update(apply_job=job)
    with later(8):
        assert exports_expire()["import_files_removed"] == 0
    assert old.path.exists()
