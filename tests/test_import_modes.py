"""Import modes: create only, update existing, create or update; apply the valid rows or
all or nothing; missing names; the column mapping; each bad input with its message."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership
from patron.events.models import Event
from patron.groups.models import Group
from patron.imports.models import ColumnMapping, CustomerImport
from patron.imports.services import import_apply_start, import_options_set, import_upload
from patron.jobs.services import job_run
from patron.tags.models import Tag
from tests.conftest import token_client
from tests.factories import (
    CustomerFactory,
    GroupFactory,
    GroupSetFactory,
    TagFactory,
    active_status,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.PATRON_DEFAULT_COUNTRY = "GB"
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
    }


def upload(actor, content, name="customers.csv", **options):
    customer_import = import_upload(
        actor=actor, upload=SimpleUploadedFile(name, content.encode()), options=options
    )
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    return customer_import


def apply(actor, customer_import):
    job = job_run(import_apply_start(actor=actor, customer_import=customer_import).pk)
    customer_import.refresh_from_db()
    return job


def errors(customer_import):
    return [(e["row"], e["column"], e["message"]) for e in customer_import.errors]


@pytest.fixture
def existing(lists):
    ann = CustomerFactory(account_number="U1", name="Ann Old", service_city="Leeds")
    bob = CustomerFactory(account_number="U2", name="Bob", service_city="York")
    CustomerTag.objects.create(customer=ann, tag=lists["vip"])
    return {"ann": ann, "bob": bob}


# --- update existing --------------------------------------------------------------------


def test_an_update_changes_only_what_differs_and_logs_it(actor, existing, lists):
    """Ann's name and tags change: one *updated* event listing them, the version goes up.
    Bob's row says what he already has: counted unchanged, no event."""
    ann, bob = existing["ann"], existing["bob"]
    version = ann.version
    customer_import = upload(
        actor,
        "account_number,name,city,tags\nU1,Ann New,Leeds,Fibre\nU2,Bob,York,\n",
        mode="update",
    )
    assert customer_import.state == "ready", customer_import.errors
    assert customer_import.summary["to_update"] == 1
    assert customer_import.summary["unchanged"] == 1
    assert customer_import.summary["to_create"] == 0
    job = apply(actor, customer_import)
    assert job.state == "succeeded", job.error
    ann.refresh_from_db()
    assert ann.name == "Ann New" and ann.version == version + 1
    assert set(ann.tags.values_list("name", flat=True)) == {"Fibre"}
    event = Event.objects.get(action="updated", customer=ann)
    assert event.changes["name"] == ["Ann Old", "Ann New"]
    assert event.changes["tags"] == ["VIP", "Fibre"]
    assert not Event.objects.filter(action="updated", customer=bob).exists()
    assert customer_import.updated_count == 1 and customer_import.unchanged_count == 1
    assert Customer.objects.count() == 2
    assert "updated 1" in job.message and "1 unchanged" in job.message


def test_an_update_of_an_account_the_user_may_not_see_reads_as_if_it_did_not_exist(lists):
    """A restricted user updating a customer outside their groups gets the very message
    of an account number nobody has; nothing changes."""
    user = user_with_role(Role.STAFF, username="northern")
    user.restricted_groups.add(lists["leeds"])
    hidden = CustomerFactory(account_number="H1", name="Hidden")
    mine = CustomerFactory(account_number="M1", name="Mine")
    GroupMembership.objects.create(
        customer=mine, group=lists["leeds"], group_set=lists["leeds"].group_set
    )
    actor = Actor(user=user)
    customer_import = upload(
        actor, "account_number,name\nH1,Changed\nNOPE,Changed\n", mode="update"
    )
    assert customer_import.state == "invalid"
    messages = [m for _r, _c, m in errors(customer_import)]
    assert messages[0].replace("H1", "X") == messages[1].replace("NOPE", "X")
    assert messages[0] == (
        "There is no customer with the account number H1 to update. Check the number, or "
        "import the row as a new customer."
    )
    hidden.refresh_from_db()
    assert hidden.name == "Hidden"


def test_update_mode_needs_the_matching_column(actor, existing):
    customer_import = upload(actor, "name\nAnn\n", mode="update")
    assert errors(customer_import) == [
        (
            1,
            "account_number",
            "An update finds each customer by its account number: add the column.",
        )
    ]


def test_create_or_update_creates_new_numbers_and_updates_known_ones(actor, existing):
    customer_import = upload(
        actor,
        "account_number,name\nU1,Ann Renamed\nN1,New Person\n",
        mode="create_or_update",
    )
    assert customer_import.summary["to_create"] == 1
    assert customer_import.summary["to_update"] == 1
    apply(actor, customer_import)
    assert Customer.objects.get(account_number="U1").name == "Ann Renamed"
    assert Customer.objects.get(account_number="N1").name == "New Person"
    assert customer_import.created_count == 1 and customer_import.updated_count == 1


def test_a_duplicate_account_number_in_one_file_is_an_error_for_the_later_row(actor, existing):
    customer_import = upload(
        actor, "account_number,name\nU1,Ann A\nU1,Ann B\n", mode="create_or_update"
    )
    assert customer_import.state == "invalid"
    assert errors(customer_import) == [
        (
            3,
            "account_number",
            "Account number U1 is already used in row 2 of this file; each customer may "
            "appear only once.",
        )
    ]
    assert Customer.objects.get(account_number="U1").name == "Ann Old"


def test_an_update_matched_on_the_external_reference(actor, existing):
    ann = existing["ann"]
    Customer.objects.filter(pk=ann.pk).update(external_reference="OLD-7")
    customer_import = upload(
        actor,
        "external_reference,name\nOLD-7,Ann From Old System\n",
        mode="update",
        match_on="external_reference",
    )
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    ann.refresh_from_db()
    assert ann.name == "Ann From Old System"


def test_contacts_are_updated_in_place(actor, existing):
    ann = existing["ann"]
    contact = Contact.objects.create(customer=ann, name="Ann Old", email="old@example.com")
    customer_import = upload(
        actor,
        "account_number,contact_name,contact_email\nU1,Ann Old,new@example.com\n",
        mode="update",
    )
    apply(actor, customer_import)
    contact.refresh_from_db()
    assert contact.email == "new@example.com" and contact.version == 2
    assert Contact.objects.filter(customer=ann).count() == 1


# --- apply the valid rows / all or nothing ---------------------------------------------


BAD_ROW = "account_number,name,tags\nV1,Vera,VIP\nV2,,VIP\nV3,Vic,Nope\nV4,Val,\n"


def test_all_or_nothing_with_one_bad_row_imports_nothing(actor, lists):
    customer_import = upload(actor, BAD_ROW)
    assert customer_import.state == "invalid"
    assert customer_import.rejected_count == 2
    with pytest.raises(Exception, match="error"):
        import_apply_start(actor=actor, customer_import=customer_import)
    assert not Customer.objects.exists()


def test_valid_rows_are_applied_and_the_rejected_rows_downloaded_to_fix(actor, lists, client):
    """The two good rows are imported; the two bad ones come back as CSV with their own
    cells and a reason, and once fixed the file imports as it is."""
    customer_import = upload(actor, BAD_ROW, on_error="valid_rows")
    assert customer_import.state == "ready"
    assert customer_import.summary["to_create"] == 2
    job = apply(actor, customer_import)
    assert job.state == "succeeded", job.error
    assert set(Customer.objects.values_list("account_number", flat=True)) == {"V1", "V4"}
    assert customer_import.rejected_count == 2
    client.force_login(actor.user)
    response = client.get(f"/imports/{customer_import.pk}/rejected/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["account_number", "name", "tags", "reason"]
    assert [r[:3] for r in rows[1:]] == [["V2", "", "VIP"], ["V3", "Vic", "Nope"]]
    assert rows[1][3] == "name: The name is required."
    assert rows[2][3].startswith("tags: There is no tag “Nope”.")
    fixed = text.replace("V2,,VIP", "V2,Vanessa,VIP").replace("Vic,Nope", "Vic,VIP")
    again = upload(actor, fixed)
    assert again.state == "ready", again.errors
    apply(actor, again)
    assert Customer.objects.count() == 4


def test_a_file_of_only_bad_rows_cannot_be_applied(actor, lists):
    customer_import = upload(actor, "account_number,name\nX1,\n", on_error="valid_rows")
    assert customer_import.state == "invalid"


# --- missing names --------------------------------------------------------------------


MISSING = (
    "account_number,name,tags,groups,class,department,custom:shoe_size\n"
    "M1,Mia,Gold; VIP,Partners,Premium,Field team,42\n"
    "M2,Max,Gold,,Premium,,\n"
)


def test_the_dry_run_lists_missing_names_with_their_row_counts(actor, lists):
    customer_import = upload(actor, MISSING)
    assert customer_import.state == "invalid"
    assert customer_import.summary["missing"] == [
        {"kind": "class", "name": "Premium", "rows": 2},
        {"kind": "custom field", "name": "shoe_size", "rows": 1},
        {"kind": "department", "name": "Field team", "rows": 1},
        {"kind": "group", "name": "Partners", "rows": 1},
        {"kind": "tag", "name": "Gold", "rows": 2},
    ]
    assert not Tag.objects.filter(name="Gold").exists()


def test_an_owner_creates_the_missing_names_in_the_same_import(actor, lists):
    customer_import = upload(actor, MISSING, create_missing=True)
    assert customer_import.state == "ready", customer_import.errors
    job = apply(actor, customer_import)
    assert job.state == "succeeded", job.error
    mia = Customer.objects.get(account_number="M1")
    assert set(mia.tags.values_list("name", flat=True)) == {"Gold", "VIP"}
    assert mia.groups.get().name == "Partners"
    assert Group.objects.get(name="Partners").group_set.name == "Imported"
    assert mia.customer_class.name == "Premium" and mia.department.name == "Field team"
    assert mia.custom_fields == {"shoe_size": "42"}
    assert customer_import.summary["names_created"]["tag"] == 1


def test_staff_may_not_create_missing_names_and_nothing_is_created(lists):
    staff = user_with_role(Role.STAFF, username="sam")
    customer_import = upload(Actor(user=staff), MISSING, create_missing=True)
    assert customer_import.state == "invalid"
    assert customer_import.summary["missing_refusal"] == (
        "Your role does not allow you to create classes, custom fields, departments, groups, "
        "tags; an Owner or Administrator can, or create them first."
    )
    with pytest.raises(Exception, match="error"):
        import_apply_start(actor=Actor(user=staff), customer_import=customer_import)
    assert not Tag.objects.filter(name="Gold").exists()
    assert not Customer.objects.exists()


# --- column mapping --------------------------------------------------------------------

FOREIGN = "CustomerID,CompanyName,Town,Shoe size\nALFKI,Alfreds,Berlin,42\n"


def test_an_unknown_header_asks_to_be_mapped_and_the_mapping_is_remembered(actor, lists):
    customer_import = upload(actor, FOREIGN)
    assert customer_import.state == "invalid"
    assert customer_import.summary["unknown_headers"] == [
        "CustomerID",
        "CompanyName",
        "Town",
        "Shoe size",
    ]
    assert not Customer.objects.exists()
    mapping = {"CustomerID": "account_number", "CompanyName": "name", "Town": "city"}
    mapping["Shoe size"] = ""  # ignore it
    customer_import = import_options_set(
        actor=actor, customer_import=customer_import, mapping=mapping
    )
    job_run(customer_import.check_job_id)
    customer_import.refresh_from_db()
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    alfreds = Customer.objects.get(account_number="ALFKI")
    assert (alfreds.name, alfreds.service_city) == ("Alfreds", "Berlin")
    assert ColumnMapping.objects.count() == 1
    # Next month's file, same headers: read the same way without asking.
    second = upload(actor, FOREIGN.replace("ALFKI,Alfreds", "ANATR,Ana"), mode="create")
    assert second.state == "ready", second.errors
    assert second.summary["mapping_remembered"] is True


def test_a_mapping_that_names_one_column_twice_is_refused(actor, lists):
    customer_import = upload(actor, FOREIGN)
    with pytest.raises(Exception, match="both mapped to name"):
        import_options_set(
            actor=actor,
            customer_import=customer_import,
            mapping={"CustomerID": "name", "CompanyName": "name"},
        )


# --- countries and phones --------------------------------------------------------------


def test_the_preview_says_when_the_home_country_was_used(actor, lists):
    customer_import = upload(actor, "name,country\nAnn,\nBob,DE\n")
    assert customer_import.summary["home_country_rows"] == 1
    assert customer_import.preview[0]["notes"] == ["No country given: the home country was used."]
    assert customer_import.preview[1]["country"] == "DE"


def test_phones_are_read_in_the_customers_country(actor, lists):
    customer_import = upload(
        actor, "name,country,contact_name,contact_phone\nHans,DE,Hans,030 1234567\n"
    )
    assert customer_import.state == "ready", customer_import.errors
    apply(actor, customer_import)
    assert Contact.objects.get().phone == "+49301234567"


def test_an_invalid_legacy_phone_is_kept_as_written_when_asked(actor, lists):
    content = "name,country,contact_name,contact_phone\nOld,GB,Old,12345\n"
    refused = upload(actor, content)
    assert refused.state == "invalid"
    kept = upload(actor, content, keep_invalid_phones=True)
    assert kept.state == "ready", kept.errors
    assert kept.summary["phones_kept"] == 1
    apply(actor, kept)
    contact = Contact.objects.get()
    assert contact.phone == "12345" and contact.phone_unverified is True


def test_uk_is_refused_with_a_suggestion(actor, lists):
    customer_import = upload(actor, "name,country\nAnn,UK\n")
    assert errors(customer_import) == [
        (2, "country", "“UK” is not an ISO country code: did you mean GB, United Kingdom?")
    ]


# --- API -------------------------------------------------------------------------------


def test_the_api_takes_options_maps_columns_and_serves_rejected_rows(owner, lists):
    client = token_client(owner)
    response = client.post(
        "/api/imports/",
        {
            "file": SimpleUploadedFile("f.csv", FOREIGN.encode()),
            "on_error": "valid_rows",
            "mode": "create_or_update",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    customer_import = CustomerImport.objects.get(pk=pk)
    assert (customer_import.mode, customer_import.on_error) == ("create_or_update", "valid_rows")
    job_run(customer_import.check_job_id)
    mapping = client.get(f"/api/imports/{pk}/mapping/").json()
    assert mapping["unknown_headers"] == ["CustomerID", "CompanyName", "Town", "Shoe size"]
    assert mapping["mapping"]["CustomerID"] is None
    response = client.post(
        f"/api/imports/{pk}/mapping/",
        {
            "mapping": {
                "CustomerID": "account_number",
                "CompanyName": "name",
                "Town": "city",
                "Shoe size": "",
            }
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    customer_import.refresh_from_db()
    job_run(customer_import.check_job_id)
    body = client.get(f"/api/imports/{pk}/").json()
    assert body["state"] == "ready" and body["summary"]["to_create"] == 1
    assert client.get(f"/api/imports/{pk}/rejected/").status_code == 404
    bad = client.post(f"/api/imports/{pk}/options/", {"mode": "sideways"}, format="json")
    assert bad.status_code == 400
