"""The import's bulk write: same rows, events and search index as row-by-row writes would give.

The import fills the search index in one statement after its rows (see
`patron.imports.applying.BulkWriteMode`); on PostgreSQL with a role that may
set `session_replication_role` it also checks each referenced row once
instead of a foreign-key check per row. These tests hold both paths to the
same result.
"""

import pytest
from django.db import IntegrityError, connection

from patron.core.errors import ValidationError
from patron.customers.models import Customer, CustomerTag
from patron.events.models import Event
from patron.imports import applying, services
from patron.imports.checking import CustomerFileChecker
from patron.imports.services import customers_import_file
from patron.search import sql
from patron.search.index import rebuild
from patron.tags.models import Tag
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    GroupFactory,
    GroupSetFactory,
    TagFactory,
    active_status,
)

pytestmark = pytest.mark.django_db

HEADER = (
    "account_number,name,street,city,postcode,tags,groups,"
    "contact_name,contact_email,contact_mobile,contact2_name,contact2_phone\n"
)


@pytest.fixture(params=["bulk", "row by row"])
def mode(request, monkeypatch):
    """Run each test on both write paths: the per-import checks and index fill, and the
    per-row triggers and foreign keys (the test database is SQLite in memory, not WAL,
    so its bulk path is switched on here)."""
    bulk = request.param == "bulk"
    if connection.vendor == "postgresql" and not bulk:
        monkeypatch.setattr(applying.BulkWriteMode, "_may_set_replica", staticmethod(lambda: False))
    if connection.vendor == "sqlite":
        monkeypatch.setattr(applying.BulkWriteMode, "_sqlite_wal", staticmethod(lambda: bulk))
    return request.param


@pytest.fixture
def lists(db):
    active_status()
    regions = GroupSetFactory(name="Region", single_choice=True)
    return {
        "vip": TagFactory(name="VIP"),
        "fibre": TagFactory(name="Fibre"),
        "leeds": GroupFactory(name="Leeds", group_set=regions),
    }


def write(tmp_path, rows: int, bad_row: int | None = None):
    path = tmp_path / "customers.csv"
    lines = []
    for i in range(rows):
        mobile = "not a phone" if i == bad_row else f"+4479111{i:05d}"
        lines.append(
            f"K{i:05d},Kim Number{i},{i} Mill Lane,Leeds,LS{i % 9 + 1} 1AA,Fibre; VIP,Leeds,"
            f"Kim Contact{i},kim{i}@example.org,{mobile},Second{i},0113 496 {i % 10000:04d}\n"
        )
    path.write_text(HEADER + "".join(lines))
    return path


def index_rows() -> dict:
    """Each customer's index row as sets of lines and phone numbers (order aside)."""
    key = "customer_id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, text, phones FROM {sql.TABLE}")
        return {
            pk: (frozenset(text.split("\n")), frozenset(phones.split()))
            for pk, text, phones in cursor.fetchall()
        }


def found(text):
    return set(Customer.objects.search(text).values_list("account_number", flat=True))


def test_the_search_index_after_an_import_equals_a_full_rebuild(actor, lists, tmp_path, mode):
    """Every imported customer is searchable at once, by name, email and phone."""
    before = CustomerFactory(account_number="OLD1", name="Olga Before")
    ContactFactory(customer=before, name="Olga", email="olga@example.org", phone="+447911000001")
    outcome = customers_import_file(actor=actor, path=write(tmp_path, 2500))
    assert outcome.created == 2500
    assert found("Kim Number2499") == {"K02499"}
    assert found("kim17@example.org") == {"K00017"}
    assert found("Second1234") == {"K01234"}
    assert found("07911 100042") == {"K00042"}
    assert found("Olga") == {"OLD1"}
    imported = index_rows()
    assert len(imported) == Customer.objects.count() == 2501
    rebuild()
    assert index_rows() == imported


def test_the_triggers_work_again_after_an_import(actor, lists, tmp_path, mode):
    customers_import_file(actor=actor, path=write(tmp_path, 3))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
    later = CustomerFactory(account_number="LATER", name="Lena Later")
    ContactFactory(customer=later, name="Lena", email="lena@example.org")
    assert found("Lena Later") == {"LATER"}
    assert found("lena@example") == {"LATER"}


def test_a_bad_row_in_a_later_chunk_leaves_no_row_and_the_index_as_it_was(
    actor, lists, tmp_path, mode
):
    CustomerFactory(account_number="OLD1", name="Olga Before")
    before = index_rows()
    with pytest.raises(ValidationError, match="row 2402 \\(contact_mobile\\)"):
        customers_import_file(actor=actor, path=write(tmp_path, 2500, bad_row=2400))
    assert Customer.objects.count() == 1 and CustomerTag.objects.count() == 0
    assert index_rows() == before
    CustomerFactory(account_number="LATER", name="Lena Later")
    assert found("Lena Later") == {"LATER"}, "the search triggers are back"


def test_the_created_events_hold_the_same_changes_as_before(actor, lists, tmp_path, mode):
    customers_import_file(actor=actor, path=write(tmp_path, 2))
    event = Event.objects.get(action="created", customer__account_number="K00001")
    assert event.changes == {
        "account_number": [None, "K00001"],
        "name": [None, "Kim Number1"],
        "status": [None, Customer.objects.get(account_number="K00001").status.name],
        "tags": [[], ["Fibre", "VIP"]],
        "groups": [[], ["Leeds"]],
        "contacts": [[], ["Kim Contact1", "Second1"]],
    }
    assert event.object_repr == "Kim Number1 (K00001)"
    assert event.message == "Imported from customers.csv"


def test_a_tag_deleted_during_the_import_stops_it_with_a_message(
    actor, lists, tmp_path, monkeypatch
):
    """With the per-import reference checks, a vanished tag is refused as a foreign key
    would refuse it: nothing is written."""
    if connection.vendor != "postgresql" or not applying.BulkWriteMode._may_set_replica():
        pytest.skip("only the PostgreSQL bulk path checks references itself")

    class DeletesATag(CustomerFileChecker):
        def __init__(self, actor, *args, **kwargs):
            super().__init__(actor, *args, **kwargs)
            Tag.objects.filter(name="VIP").delete()

    monkeypatch.setattr(services, "CustomerFileChecker", DeletesATag)
    with pytest.raises(ValidationError, match="A tag named in the file was deleted"):
        customers_import_file(actor=actor, path=write(tmp_path, 3))
    assert Customer.objects.count() == 0 and CustomerTag.objects.count() == 0


def test_a_failed_batch_stops_the_import_with_its_own_error(
    actor, lists, tmp_path, monkeypatch, mode
):
    """A database error while a batch is written (here: an account number that another
    session took after the check) fails the whole import with that error, and nothing
    of the file is kept."""
    CustomerFactory(account_number="K02300")
    monkeypatch.setattr(services, "existing_account_numbers", lambda numbers: [])
    with pytest.raises(IntegrityError, match="account_number"):
        customers_import_file(actor=actor, path=write(tmp_path, 4500))
    assert Customer.objects.count() == 1 and CustomerTag.objects.count() == 0
    assert not Event.objects.filter(action="created").exists()
    assert found("Kim Number1") == set()
