"""Formula-like text (=, +, -, @, tab, CR) is defused in exports and restored on import.

OWASP's advice for CSV injection: a cell a spreadsheet would run as a formula
is written with a leading single quote. The import takes exactly that quote
off again, so export → import gives back the values the export was made from.
"""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from patron.core.spreadsheet import (
    FORMULA_STARTS,
    looks_like_formula,
    neutralise_cell,
    restore_cell,
)
from patron.customers.models import Contact, Customer
from patron.customfields.models import CustomField
from patron.imports.exporting import export_path
from patron.imports.jobs import EXPORT_JOB
from patron.imports.services import import_apply_start, import_upload
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from tests.factories import ContactFactory, CustomerFactory, TagFactory, active_status

pytestmark = pytest.mark.django_db

Type = CustomField.FieldType

DANGEROUS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]
WHITESPACE = ["\tx", "\rx"]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def customers(db):
    """Customers whose text starts like a formula in every kind of column."""
    active_status()
    CustomField.objects.create(key="router", label="Router")
    CustomField.objects.create(key="balance", label="Balance", field_type=Type.NUMBER)
    CustomField.objects.create(
        key="plan", label="Plan", field_type=Type.CHOICE, choices=["+Plus", "Basic"]
    )
    at_home = TagFactory(name="@home")
    first = CustomerFactory(
        account_number="F1",
        name=DANGEROUS[0],
        notes=DANGEROUS[1],
        service_street=DANGEROUS[2],
        service_city=DANGEROUS[3],
        custom_fields={"router": "=1+1", "balance": -2.5, "plan": "+Plus"},
    )
    first.tags.add(at_home)
    ContactFactory(
        customer=first,
        is_primary=True,
        name=WHITESPACE[0],
        title=WHITESPACE[1],
        email="-ann@example.com",
        phone="+441134960100",
        mobile="+447400123456",
    )
    second = CustomerFactory(
        account_number="F2",
        name="'=already quoted",  # a quote in front of a formula is text, and kept
        notes="'quoted'",
        service_street="O'Brien Street",
        service_city="-",
        custom_fields={"router": "+44 113 496 0100", "balance": -3},
    )
    ContactFactory(
        customer=second,
        is_primary=True,
        name="''@twice",
        title="'",
        email="bob@example.com",
        phone="+442079460018",
        mobile="",
    )
    third = CustomerFactory(account_number="F3", name="Plain Ltd", notes="2-3 = 5")
    return [first, second, third]


def export(actor, file_format="csv"):
    job = job_enqueue(actor=actor, kind=EXPORT_JOB, params={"format": file_format, "filter": ""})
    job = job_run(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    return export_path(job.result_summary["file"])


def raw_rows(path):
    """The CSV file's cells exactly as a spreadsheet program receives them."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def renumbered_csv(path) -> bytes:
    """The exported file with new account numbers, its other cells untouched."""
    rows = raw_rows(path)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(rows[0])
    for row in rows[1:]:
        writer.writerow([f"R{row[0]}", *row[1:]])
    return out.getvalue().encode("utf-8-sig")


def import_file(actor, name, data):
    customer_import = import_upload(actor=actor, upload=SimpleUploadedFile(name, data))
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    assert customer_import.state == "ready", customer_import.errors
    job = job_run(import_apply_start(actor=actor, customer_import=customer_import).pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    return customer_import


def snapshot(customer):
    contacts = [
        (c.name, c.title, c.email, c.phone, c.mobile, c.is_primary)
        for c in Contact.objects.filter(customer=customer).order_by("-is_primary", "name")
    ]
    return {
        "name": customer.name,
        "notes": customer.notes,
        "street": customer.service_street,
        "city": customer.service_city,
        "custom": customer.custom_fields or {},
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "contacts": contacts,
    }


# --- the rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, written",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+44 113 496 0100", "'+44 113 496 0100"),
        ("-2.50", "'-2.50"),
        (-2.5, "'-2.5"),
        ("'=x", "''=x"),
        ("''+x", "'''+x"),
        ("'quoted'", "'quoted'"),
        ("O'Brien", "O'Brien"),
        ("'", "'"),
        ("", ""),
        ("a=b", "a=b"),
        (" =x", " =x"),
    ],
)
def test_each_value_is_written_defused_and_read_back_as_it_was(value, written):
    assert neutralise_cell(value) == written
    assert restore_cell(str(written)) == str(value)


def test_only_a_quote_in_front_of_formula_like_text_is_taken_off():
    assert restore_cell("'+44 113 496 0100") == "+44 113 496 0100"
    assert restore_cell("''=x") == "'=x"
    for untouched in ("'quoted'", "O'Brien", "'", "''", "'' x", "'a=b", "+1"):
        assert restore_cell(untouched) == untouched
    assert neutralise_cell(None) is None and neutralise_cell(12) == 12
    assert not looks_like_formula("Plain") and looks_like_formula("''\r")


# --- CSV ----------------------------------------------------------------------------


def test_no_exported_csv_cell_starts_like_a_formula(actor, customers):
    rows = raw_rows(export(actor))
    header, body = rows[0], rows[1:]
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), (cell, row)
    by_account = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    first, second, third = by_account["F1"], by_account["F2"], by_account["F3"]
    assert [first["name"], first["notes"], first["street"], first["city"]] == [
        "'" + v for v in DANGEROUS
    ]
    assert [first["contact_name"], first["contact_title"]] == ["'" + v for v in WHITESPACE]
    assert (first["contact_email"], first["contact_phone"], first["contact_mobile"]) == (
        "'-ann@example.com",
        "'+441134960100",
        "'+447400123456",
    )
    assert (first["custom:router"], first["custom:balance"], first["custom:plan"]) == (
        "'=1+1",
        "'-2.5",
        "'+Plus",
    )
    assert first["tags"] == "'@home"
    assert (second["name"], second["contact_name"]) == ("''=already quoted", "'''@twice")
    assert (second["notes"], second["street"], second["contact_title"]) == (
        "'quoted'",
        "O'Brien Street",
        "'",
    )
    assert (second["city"], second["custom:router"], second["custom:balance"]) == (
        "'-",
        "'+44 113 496 0100",
        "'-3",
    )
    assert (third["name"], third["notes"]) == ("Plain Ltd", "2-3 = 5")


def test_an_exported_csv_imports_back_to_the_same_values(actor, customers):
    before = {c.account_number: snapshot(c) for c in customers}
    import_file(actor, "again.csv", renumbered_csv(export(actor)))
    for account, expected in before.items():
        again = Customer.objects.get(account_number=f"R{account}")
        assert snapshot(again) == expected, account


def test_a_quoted_phone_number_and_amount_in_a_handwritten_csv(actor, customers):
    content = (
        "name,notes,street,contact_name,contact_phone,contact_mobile,custom:balance,"
        "custom:router\n"
        "Ann,'quoted',O'Brien Street,'-Ann,'+44 113 496 0100,'+44 7400 123456,'-2.50,"
        "'+44 113 496 0100\n"
    )
    import_file(actor, "phones.csv", content.encode())
    ann = Customer.objects.get(name="Ann")
    contact = ann.contacts.get()
    assert (ann.notes, ann.service_street) == ("'quoted'", "O'Brien Street")
    assert (contact.name, contact.phone, contact.mobile) == (
        "-Ann",
        "+441134960100",
        "+447400123456",
    )
    assert ann.custom_fields == {"balance": -2.5, "router": "+44 113 496 0100"}


# --- XLSX ---------------------------------------------------------------------------


def test_xlsx_keeps_formula_like_text_as_marked_text_and_imports_back(actor, customers):
    path = export(actor, "xlsx")
    sheet = load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = {row[0].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    first = rows["F1"]
    for column, value in zip(("name", "notes", "street", "city"), DANGEROUS, strict=True):
        cell = first[column]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), column
    assert (first["contact_phone"].value, first["contact_phone"].quotePrefix) == (
        "+441134960100",
        True,
    )
    balance = first["custom:balance"]
    assert (balance.value, balance.data_type) == (-2.5, "n")  # a number stays a number
    assert not rows["F3"]["name"].quotePrefix

    before = {c.account_number: snapshot(c) for c in customers}
    for row in rows.values():
        row["account_number"].value = f"R{row['account_number'].value}"
    workbook = sheet.parent
    out = io.BytesIO()
    workbook.save(out)
    import_file(actor, "again.xlsx", out.getvalue())
    # XLSX cells are read as they are, but stripped of spaces, tabs and line breaks
    # at either end, as every imported cell always was; the quote that keeps a
    # leading tab or carriage return in CSV has no counterpart in a typed cell.
    before["F1"]["contacts"] = [
        (name.strip(), title.strip(), *rest) for name, title, *rest in before["F1"]["contacts"]
    ]
    for account, expected in before.items():
        again = Customer.objects.get(account_number=f"R{account}")
        assert snapshot(again) == expected, account
