"""Customer import: the dry run reports each bad input by row and column; apply is all-or-none."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership, StatusChange
from patron.events.models import Event
from patron.imports.models import CustomerImport
from patron.imports.phones import PhoneNormaliser
from patron.imports.services import customers_import_file, import_apply_start, import_upload
from patron.jobs.models import Job
from patron.jobs.services import job_run
from patron.tags.models import Tag
from tests.factories import (
    CustomerFactory,
    GroupFactory,
    GroupSetFactory,
    TagFactory,
    active_status,
    user_with_role,
)

pytestmark = pytest.mark.django_db

HEADER = "account_number,name,status,tags,groups,contact_name,contact_email,contact_phone\n"


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def lists(db):
    active_status()
    regions = GroupSetFactory(name="Region", single_choice=True)
    return {
        "vip": TagFactory(name="VIP"),
        "fibre": TagFactory(name="Fibre"),
        "leeds": GroupFactory(name="Leeds", group_set=regions),
        "york": GroupFactory(name="York", group_set=regions),
        "resellers": GroupFactory(
            name="Resellers", group_set=GroupSetFactory(name="Channels", single_choice=False)
        ),
    }


def upload(actor, content, name="customers.csv"):
    """Upload `content` (str is written as UTF-8) and run its dry run."""
    data = content.encode() if isinstance(content, str) else content
    customer_import = import_upload(actor=actor, upload=SimpleUploadedFile(name, data))
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    return customer_import


def apply(actor, customer_import):
    job = import_apply_start(actor=actor, customer_import=customer_import)
    job = job_run(job.pk)
    customer_import.refresh_from_db()
    return job


def errors(customer_import):
    return [(e["row"], e["column"], e["message"]) for e in customer_import.errors]


GOOD = HEADER + (
    "A100,Ada Lovelace,Active,VIP; Fibre,Leeds; Resellers,Ada Lovelace,ada@example.com,"
    "+44 113 496 0000\n"
    ",Charles Babbage,,,York,Charles Babbage,,07911 123 456\n"
)


def test_clean_file_checks_then_imports_everything(actor, lists):
    """A clean file is `ready` after the dry run, and applying it creates every row with
    its contacts (E.164), tags, groups, status history and one event per customer."""
    customer_import = upload(actor, GOOD)
    assert (customer_import.state, customer_import.row_count, customer_import.errors) == (
        "ready",
        2,
        [],
    )
    assert [r["name"] for r in customer_import.preview] == ["Ada Lovelace", "Charles Babbage"]
    assert Customer.objects.count() == 0, "the dry run writes nothing"

    job = apply(actor, customer_import)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert (customer_import.state, customer_import.created_count) == ("applied", 2)
    ada = Customer.objects.get(account_number="A100")
    assert ada.status.name == "Active"
    assert set(ada.tags.values_list("name", flat=True)) == {"VIP", "Fibre"}
    assert set(ada.groups.values_list("name", flat=True)) == {"Leeds", "Resellers"}
    contact = ada.contacts.get()
    assert (contact.email, contact.phone, contact.is_primary) == (
        "ada@example.com",
        "+441134960000",
        True,
    )
    charles = Customer.objects.get(name="Charles Babbage")
    assert charles.account_number.startswith("C"), "an empty account number is allocated"
    assert charles.contacts.get().mobile == "" and charles.contacts.get().phone == "+447911123456"
    assert StatusChange.objects.filter(customer=charles, to_status__name="Active").count() == 1
    events = Event.objects.filter(customer__in=[ada, charles], action="created")
    assert events.count() == 2
    assert events.get(customer=ada).changes["tags"] == [[], ["Fibre", "VIP"]]
    assert events.get(customer=ada).actor_user == actor.user
    # The new customers are ordinary customers: the ORM reads them back whole.
    assert ada.version == 1 and ada.custom_fields == {} and ada.archived is False
    assert GroupMembership.objects.get(customer=ada, group=lists["leeds"]).exclusive is True
    assert lists["leeds"].__class__.objects.get(pk=lists["leeds"].pk).was_used is True


def test_applying_twice_is_refused(actor, lists):
    customer_import = upload(actor, GOOD)
    apply(actor, customer_import)
    with pytest.raises(ValidationError, match="already been imported"):
        import_apply_start(actor=actor, customer_import=customer_import)
    assert Customer.objects.count() == 2


def test_unknown_missing_and_repeated_headers_are_reported_on_row_1(actor, lists):
    customer_import = upload(actor, "acount_number,Name,Shoe size,name\nA1,Ann,42,Ann\n")
    assert customer_import.state == "invalid"
    assert errors(customer_import) == [
        (
            1,
            "acount_number",
            "Unknown column “acount_number”. Did you mean “account_number”? Map it to one "
            "of Patron's columns, or choose to ignore it, on the column mapping page.",
        ),
        (
            1,
            "Shoe size",
            "Unknown column “Shoe size”. Map it to one of Patron's columns, or choose to "
            "ignore it, on the column mapping page.",
        ),
        (1, "name", "The column “name” appears twice."),
    ]
    missing = upload(actor, "account_number,city\nA1,Leeds\n")
    assert errors(missing) == [(1, "name", "The required column “name” is missing.")]


def test_headers_are_matched_whatever_their_case_and_spacing(actor, lists):
    customer_import = upload(
        actor, "Account Number,NAME,Contact-Name,Contact Email\nA1,Ann,Ann,ann@example.com\n"
    )
    assert customer_import.state == "ready", customer_import.errors


def test_a_file_that_is_not_utf8_is_refused_with_the_line(actor, lists):
    latin1 = "account_number,name\nA1,Zoë\nA2,José\n".encode("latin-1")
    customer_import = upload(actor, latin1)
    assert customer_import.state == "invalid"
    ((row, column, message),) = errors(customer_import)
    assert row == 2 and column == ""
    assert message.startswith("Line 2 is not UTF-8 text (byte 0xeb")
    assert "CSV UTF-8" in message


def test_utf8_with_a_byte_order_mark_is_accepted(actor, lists):
    content = "\ufeffaccount_number,name\nA1,Zoë Ångström\n".encode()
    customer_import = upload(actor, content)
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    assert Customer.objects.get(account_number="A1").name == "Zoë Ångström"


def test_semicolon_separated_files_are_read(actor, lists):
    customer_import = upload(actor, "account_number;name;tags\nA1;Ann;VIP\n")
    assert customer_import.state == "ready", customer_import.errors


def test_duplicate_account_numbers_in_the_file_and_in_patron(actor, lists):
    CustomerFactory(account_number="EXIST1")
    customer_import = upload(actor, "account_number,name\nA1,Ann\nA1,Bob\nEXIST1,Cat\n\nA2,Dan\n")
    assert errors(customer_import) == [
        (
            3,
            "account_number",
            "Account number A1 is already used in row 2 of this file; each customer may "
            "appear only once.",
        ),
        (4, "account_number", "Account number EXIST1 already belongs to a customer in Patron."),
    ]
    assert customer_import.row_count == 4, "the blank row 5 is skipped, not counted"
    with pytest.raises(ValidationError, match="error"):
        import_apply_start(actor=actor, customer_import=customer_import)
    assert Customer.objects.count() == 1


def test_invalid_phones_and_emails_name_their_row_and_column(actor, lists):
    content = (
        "name,contact_name,contact_email,contact_phone,contact2_name,contact2_mobile\n"
        "Ann,Ann,ann@@example,+44 113 496 0000,,\n"
        "Bob,Bob,bob@example.com,12345,Rob,not a phone\n"
        "Cat,,cat@example.com,,,\n"
    )
    customer_import = upload(actor, content)
    assert errors(customer_import) == [
        (2, "contact_email", "“ann@@example” is not a valid email address."),
        (
            3,
            "contact_phone",
            "“12345” is not a valid number for United Kingdom (GB). Write it as it is dialled "
            "there, e.g. 0121 234 5678, or with its country code.",
        ),
        (
            3,
            "contact2_mobile",
            "“not a phone” is not a valid number for United Kingdom (GB). Write it as it is "
            "dialled there, e.g. 0121 234 5678, or with its country code.",
        ),
        (4, "contact_name", "Give the contact's name when other contact columns are filled."),
    ]
    assert Contact.objects.count() == 0


def test_unknown_tags_groups_and_statuses_create_nothing(actor, lists):
    tags_before = Tag.objects.count()
    content = (
        "name,tags,groups,status,kind\nAnn,VPI,Leeds,Active,person\nBob,Gold,Londn,Dormant,robot\n"
    )
    customer_import = upload(actor, content)
    assert errors(customer_import) == [
        (2, "tags", "There is no tag “VPI”. Did you mean “VIP”?"),
        (3, "kind", "Use “person” or “company”, not “robot”."),
        (
            3,
            "status",
            "There is no status “Dormant”. Create the status first.",
        ),
        (
            3,
            "tags",
            "There is no tag “Gold”. Create the tag first, or let the import create the "
            "missing names (Owners and Administrators).",
        ),
        (
            3,
            "groups",
            "There is no group “Londn”. Create the group first, or let the import create the "
            "missing names (Owners and Administrators).",
        ),
    ]
    assert Tag.objects.count() == tags_before


def test_two_groups_of_a_single_choice_set_in_one_row(actor, lists):
    customer_import = upload(actor, "name,groups\nAnn,Leeds; York\n")
    ((row, column, message),) = errors(customer_import)
    assert (row, column) == (2, "groups")
    assert "Only one group of the single-choice set “Region”" in message


def test_a_dynamic_group_takes_nobody_by_import(actor, owner, lists):
    from tests.test_restricted_dynamic import dynamic_group

    dynamic_group(owner, "Fibre fans", "tag:Fibre", lists["resellers"].group_set)
    customer_import = upload(actor, "name,groups\nAnn,Fibre fans\n")
    ((row, column, message),) = errors(customer_import)
    assert (row, column) == (2, "groups")
    assert "“Fibre fans” is a dynamic group" in message
    assert GroupMembership.objects.count() == 0


def test_an_archived_group_or_a_historical_status_is_refused(actor, lists):
    lists["york"].archived = True
    lists["york"].save()
    customer_import = upload(actor, "name,groups\nAnn,York\n")
    assert errors(customer_import) == [
        (2, "groups", "“York” is archived and cannot be given to customers.")
    ]


def test_an_empty_file_and_an_old_excel_file(actor, lists):
    with pytest.raises(ValidationError, match="empty"):
        import_upload(actor=actor, upload=SimpleUploadedFile("x.csv", b""))
    with pytest.raises(ValidationError, match="Excel 97"):
        import_upload(
            actor=actor, upload=SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 20)
        )
    header_only = upload(actor, "\n\n")
    assert errors(header_only) == [(1, "", "The file is empty: it has no header row.")]


def test_a_file_named_xlsx_that_is_not_a_workbook(actor, lists):
    with pytest.raises(ValidationError, match="not an Excel workbook"):
        import_upload(actor=actor, upload=SimpleUploadedFile("x.xlsx", b"name\nAnn\n"))


def test_xlsx_files_are_read_like_csv(actor, lists):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["account_number", "name", "tags", "contact_name", "contact_mobile"])
    sheet.append(["X1", "Ann", "VIP", "Ann", "+447911123456"])
    sheet.append([1002, "Bob", None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    customer_import = upload(actor, buffer.getvalue(), name="people.xlsx")
    assert (customer_import.file_format, customer_import.state) == ("xlsx", "ready")
    apply(actor, customer_import)
    assert Customer.objects.get(account_number="1002").name == "Bob"
    assert Customer.objects.get(account_number="X1").tags.get().name == "VIP"


def test_nothing_is_applied_when_the_database_changed_since_the_check(actor, lists):
    """A number taken after the dry run fails the whole job: no customer of the file is kept."""
    content = "account_number,name,tags\n" + "".join(f"N{i},Person {i},VIP\n" for i in range(50))
    customer_import = upload(actor, content)
    assert customer_import.state == "ready"
    CustomerFactory(account_number="N49")
    job = apply(actor, customer_import)
    assert job.state == Job.State.FAILED
    assert "row 51 (account_number): Account number N49 already belongs" in job.error
    assert "Nothing was changed" in job.error
    assert Customer.objects.count() == 1
    assert CustomerTag.objects.count() == 0 and Event.objects.filter(action="created").count() == 0
    customer_import.refresh_from_db()
    assert customer_import.state == "ready", "a failed apply leaves the import as it was"


def test_a_large_file_is_written_in_chunks(actor, lists):
    content = HEADER + "".join(
        f"B{i:05d},Person {i},Active,VIP,Leeds,Contact {i},p{i}@example.com,+4411349{i:05d}\n"
        for i in range(4500)
    )
    customer_import = upload(actor, content)
    assert customer_import.state == "ready", customer_import.errors[:3]
    job = apply(actor, customer_import)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert Customer.objects.count() == 4500
    assert Contact.objects.count() == 4500
    assert CustomerTag.objects.count() == 4500
    assert Event.objects.filter(action="created").count() == 4500
    assert job.progress_done == job.progress_total == 4500


def test_customers_import_file_for_the_command_line(actor, lists, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name\nAnn\n")
    outcome = customers_import_file(actor=actor, path=path, dry_run=True)
    assert (outcome.rows, outcome.error_count, Customer.objects.count()) == (1, 0, 0)
    outcome = customers_import_file(actor=actor, path=path)
    assert (outcome.created, Customer.objects.count()) == (1, 1)


def test_only_roles_that_add_customers_may_import(lists, readonly):
    with pytest.raises(PermissionDenied):
        import_upload(actor=Actor(user=readonly), upload=SimpleUploadedFile("a.csv", b"name\nA\n"))
    assert CustomerImport.objects.count() == 0


def test_a_restricted_user_imports_only_into_their_groups(lists):
    user = user_with_role(Role.STAFF, username="north")
    user.restricted_groups.add(lists["leeds"])
    actor = Actor(user=user)
    customer_import = upload(actor, "name,groups\nAnn,Leeds\nBob,\nCat,York\n")
    assert [(r, c) for r, c, _ in errors(customer_import)] == [(3, "groups"), (4, "groups")]
    assert errors(customer_import)[1][2] == (
        "You may add customers only to the groups you work with; name one of them."
    )


def test_imports_are_private_to_the_uploader(actor, lists, staff):
    customer_import = upload(actor, GOOD)
    assert not CustomerImport.objects.restrict(staff).filter(pk=customer_import.pk).exists()
    assert CustomerImport.objects.restrict(actor.user).filter(pk=customer_import.pk).exists()


def test_quick_phone_check_agrees_with_the_phonenumbers_library():
    """The fast E.164 path accepts exactly what `normalise_phone` accepts."""
    import random

    from patron.customers.phones import normalise_phone

    rng = random.Random(4)
    normaliser = PhoneNormaliser()
    samples = [
        f"+{cc}{rng.randint(10**6, 10**11)}"
        for cc in (1, 7, 27, 33, 34, 39, 44, 49, 61, 86, 91, 353, 800, 852)
        for _ in range(150)
    ] + ["+447700900123", "+441134960000", "+12025550123", "+390612345678"]
    for raw in samples:
        try:
            expected = normalise_phone(raw)
        except Exception:
            expected = ""
        assert normaliser.normalise(raw)[0] == expected, raw


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_written(actor, lists):
    """Quoted CSV cells may hold line breaks, tabs and backslashes; they arrive unchanged."""
    content = 'account_number,name,notes\nT1,"Ann\tTab","line one\nline two \\N C:\\dir"\n'
    customer_import = upload(actor, content)
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    ann = Customer.objects.get(account_number="T1")
    assert (ann.name, ann.notes) == ("Ann\tTab", "line one\nline two \\N C:\\dir")


def test_a_file_still_being_checked_cannot_be_applied(actor, lists):
    customer_import = import_upload(actor=actor, upload=SimpleUploadedFile("a.csv", b"name\nAnn\n"))
    with pytest.raises(ValidationError, match="still being checked"):
        import_apply_start(actor=actor, customer_import=customer_import)


def test_new_ids_never_reuse_the_id_of_a_deleted_customer(actor, lists):
    gone = CustomerFactory(account_number="GONE")
    gone_id = gone.pk
    gone.delete()
    customer_import = upload(actor, "name\nAnn\n")
    apply(actor, customer_import)
    assert Customer.objects.get(name="Ann").pk > gone_id
