"""Round trip: export the demo installation, import the file into an installation with
no customers, export again, and get the very same file."""

import csv
import io

import pytest

from patron.core.actor import Actor
from patron.customers.models import Contact, Customer
from patron.imports.checking import ImportOptions
from patron.imports.exporting import export_header, export_queryset, write_export
from patron.imports.services import customers_import_file
from patron.ops.demo.loader import load_demo

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.PATRON_DEFAULT_COUNTRY = "GB"


def _export(actor, path) -> str:
    from django.http import QueryDict

    write_export(export_queryset(actor, QueryDict("archived=all")), "csv", path)
    return path.read_text(encoding="utf-8-sig")


def _empty_the_customers() -> None:
    """Remove every customer and what hangs off them (notes, tickets, events...), as an
    installation that has its lists but no customers yet."""
    Customer.objects.update(referred_by=None)
    Customer.objects.all().delete()


def _abroad() -> None:
    """What the demo has too few of: a billing address elsewhere, a person with first and
    last name in a US state, a tax number, a reference in an old system, a fax."""
    first, second, third = Customer.objects.order_by("pk")[:3]
    Customer.objects.filter(pk=first.pk).update(
        billing_same_as_service=False,
        billing_street="1 Counting House Lane",
        billing_city="York",
        billing_region="GB-YOR",
        billing_postcode="YO1 7HH",
        billing_country="GB",
        external_reference="OLD-0001",
        tax_number="GB980780684",
        company_name=first.name,
        kind="company",
    )
    Customer.objects.filter(pk=second.pk).update(
        kind="person",
        first_name="Ada",
        last_name="Lovelace",
        name="Ada Lovelace",
        service_country="US",
        service_region="US-CA",
    )
    Contact.objects.filter(customer=second).update(
        first_name="Ada",
        last_name="Lovelace",
        name="Ada Lovelace",
        fax="+14158586273",
        country="US",
        email_opt_out=True,
    )
    Contact.objects.filter(customer=third).update(sms_opt_out=True)


def test_export_import_export_gives_the_same_file(owner, tmp_path):
    # Without billing: the test deletes the customers again, and invoices never are.
    load_demo(customers=80, billing=False)
    _abroad()
    actor = Actor(user=owner)
    first = _export(actor, tmp_path / "first.csv")
    header, _custom = export_header()
    for column in (
        "archived",
        "latitude",
        "longitude",
        "referred_by",
        "status_since",
        "created",
        "billing_street",
        "contact_email_opt_out",
        "contact_sms_opt_out",
        "class",
        "department",
        "region",
        "tax_number",
        "external_reference",
    ):
        assert column in header
    rows = list(csv.DictReader(io.StringIO(first)))
    filled = {column: sum(1 for r in rows if r[column]) for column in header}
    # Every column has a value somewhere (the second contact's name parts, fax and
    # country are the first contact's columns again).
    empty = [column for column in header if not filled[column]]
    assert empty == [
        "contact2_first_name",
        "contact2_last_name",
        "contact2_fax",
        "contact2_country",
    ]
    count = Customer.objects.count()
    assert Customer.objects.filter(archived=True).exists()
    assert Customer.objects.filter(referred_by__isnull=False).exists()
    _empty_the_customers()
    assert not Customer.objects.exists()
    outcome = customers_import_file(
        actor=actor,
        path=tmp_path / "first.csv",
        options=ImportOptions(keep_invalid_phones=True),
    )
    assert outcome.created == count
    second = _export(actor, tmp_path / "second.csv")
    first_lines, second_lines = first.splitlines(), second.splitlines()
    assert first_lines[0] == second_lines[0]
    different = [(a, b) for a, b in zip(first_lines, second_lines, strict=True) if a != b]
    assert different == []
    assert first == second
