"""Custom fields in a customer file: `custom:<key>` columns, checked by the field's type."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patron.core.errors import ValidationError
from patron.customers.models import Customer
from patron.customers.selection import selection_data
from patron.customfields.models import CustomField
from patron.events.models import Event
from patron.imports.exporting import export_queryset, write_export
from patron.imports.services import customers_import_file, import_apply_start, import_upload
from patron.jobs.models import Job
from patron.jobs.services import job_run
from tests.factories import CustomerFactory, active_status

pytestmark = pytest.mark.django_db

Type = CustomField.FieldType


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def fields(db):
    active_status()
    return {
        "router": CustomField.objects.create(key="router", label="Router"),
        "speed": CustomField.objects.create(key="speed", label="Speed", field_type=Type.NUMBER),
        "contract_end": CustomField.objects.create(
            key="contract_end", label="Contract end", field_type=Type.DATE
        ),
        "paperless": CustomField.objects.create(
            key="paperless", label="Paperless", field_type=Type.BOOLEAN
        ),
        "plan": CustomField.objects.create(
            key="plan", label="Plan", field_type=Type.CHOICE, choices=["Basic", "Pro"]
        ),
    }


HEADER = "name,custom:router,custom:speed,custom:contract_end,custom:paperless,custom:plan\n"


def upload(actor, content, name="customers.csv"):
    data = content.encode() if isinstance(content, str) else content
    customer_import = import_upload(actor=actor, upload=SimpleUploadedFile(name, data))
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    return customer_import


def apply(actor, customer_import):
    job = job_run(import_apply_start(actor=actor, customer_import=customer_import).pk)
    customer_import.refresh_from_db()
    return job


def errors(customer_import):
    return [(e["row"], e["column"], e["message"]) for e in customer_import.errors]


def test_custom_values_are_checked_and_stored_in_their_typed_form(actor, fields):
    """Each value is stored as the Custom tab would store it; empty cells set nothing."""
    content = HEADER + ('Ann,RX-100,"1,000.50",2026-03-31,yes,Pro\nBob,,12,,No,\nCyd,,,,,\n')
    customer_import = upload(actor, content)
    assert customer_import.state == "ready", customer_import.errors
    job = apply(actor, customer_import)
    assert job.state == Job.State.SUCCEEDED, job.error
    stored = dict(Customer.objects.values_list("name", "custom_fields"))
    assert stored == {
        "Ann": {
            "router": "RX-100",
            "speed": 1000.5,
            "contract_end": "2026-03-31",
            "paperless": True,
            "plan": "Pro",
        },
        "Bob": {"speed": 12, "paperless": False},
        "Cyd": {},
    }
    created = Event.objects.get(action="created", customer__name="Bob")
    assert created.changes["Speed"] == [None, "12"]
    assert created.changes["Paperless"] == [None, "No"]
    assert created.changes["name"] == [None, "Bob"]


def test_a_bad_value_is_reported_with_its_row_column_and_the_type_rule(actor, fields):
    """The messages are the ones the Custom tab shows, and nothing is imported."""
    content = HEADER + (
        "Ann,ok,fast,31/03/2026,maybe,Gold\n"
        f"Bob,{'x' * 1001},12,2026-02-30,yes,Basic\n"
        "Cyd,ok,12,2026-03-31,yes,Basic\n"
    )
    customer_import = upload(actor, content)
    assert customer_import.state == "invalid"
    assert errors(customer_import) == [
        (2, "custom:speed", "Speed must be a number like 12 or 12.50."),
        (2, "custom:contract_end", "Contract end must be a date like 2026-03-31."),
        (2, "custom:paperless", "Paperless must be yes or no."),
        (2, "custom:plan", "“Gold” is not a choice for Plan; choose one of: Basic, Pro."),
        (3, "custom:router", "Router can be at most 1000 characters long."),
        (3, "custom:contract_end", "Contract end must be a date like 2026-03-31."),
    ]
    with pytest.raises(ValidationError, match="6 error"):
        customers_import_file(actor=actor, path=customer_import.path)
    assert Customer.objects.count() == 0


def test_an_unknown_custom_column_is_a_header_error_with_a_suggestion(actor, fields):
    customer_import = upload(actor, "name,custom:routr,custom:Contract End,custom:nothing_like\n")
    assert customer_import.state == "invalid"
    assert errors(customer_import) == [
        (
            1,
            "custom:routr",
            "Unknown column “custom:routr”: there is no custom field with the key “routr”. "
            "Did you mean “custom:router”?",
        ),
        (
            1,
            "custom:Contract End",
            "Unknown column “custom:Contract End”: there is no custom field with the key "
            "“contract end”. Did you mean “custom:contract_end”?",
        ),
        (
            1,
            "custom:nothing_like",
            "Unknown column “custom:nothing_like”: there is no custom field with the key "
            "“nothing_like”.",
        ),
    ]


def test_an_archived_or_repeated_custom_column_is_refused(actor, fields):
    fields["plan"].archived = True
    fields["plan"].save()
    customer_import = upload(actor, "name,custom:plan,custom:router,Custom:Router\nAnn,Pro,a,b\n")
    assert errors(customer_import) == [
        (
            1,
            "custom:plan",
            "The custom field Plan is archived and cannot be imported; remove the column.",
        ),
        (1, "Custom:Router", "The column “custom:router” appears twice."),
    ]
    assert Customer.objects.count() == 0


def test_header_case_does_not_matter_for_custom_columns(actor, fields):
    customer_import = upload(actor, "Name,Custom:Router\nAnn,RX-1\n")
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    assert Customer.objects.get().custom_fields == {"router": "RX-1"}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_exported_file_imports_again_with_the_same_values(actor, fields, tmp_path, file_format):
    """Export → import round trip: every custom value comes back in its stored form."""
    values = {
        "E1": {
            "router": "RX-100",
            "speed": 12.5,
            "contract_end": "2026-03-31",
            "paperless": True,
            "plan": "Basic",
        },
        "E2": {"speed": 300, "paperless": False},
        "E3": {},
    }
    for number, custom in values.items():
        CustomerFactory(account_number=number, name=f"Customer {number}", custom_fields=custom)
    target = tmp_path / f"export.{file_format}"
    count = write_export(export_queryset(actor, selection_data("")), file_format, target)
    assert count == 3
    Customer.objects.all().delete()
    outcome = customers_import_file(actor=actor, path=target)
    assert (outcome.created, outcome.error_count) == (3, 0)
    assert dict(Customer.objects.values_list("account_number", "custom_fields")) == values


def test_the_dry_run_of_the_command_line_reports_the_same_errors(actor, fields, tmp_path):
    path = tmp_path / "file.csv"
    path.write_text("name,custom:speed\nAnn,x\n")
    outcome = customers_import_file(actor=actor, path=path, dry_run=True)
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [
        (2, "custom:speed", "Speed must be a number like 12 or 12.50.")
    ]
    assert Customer.objects.count() == 0
