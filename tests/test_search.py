"""CUS-8: search by account number, name, address, contact name, email and phone.

The search index (patron/search) is kept by database triggers, so these tests
write rows the ordinary way and search straight away, on SQLite and PostgreSQL.
"""

import io

import pytest
from django.core.management import call_command

from patron.customers.models import Contact, Customer, GroupMembership
from patron.search.index import phone_digits, rebuild
from tests.factories import ContactFactory, CustomerFactory, GroupFactory


@pytest.fixture
def people(db):
    ada = CustomerFactory(
        account_number="A100234",
        name="Ada Lovelace",
        service_street="12 Analytical Row",
        service_postcode="LS1 4AP",
        service_city="Leeds",
    )
    ContactFactory(
        customer=ada, name="Charles Babbage", email="charles@engine.example", phone="+447911123456"
    )
    bob = CustomerFactory(account_number="B200555", name="Bob Builder", service_city="York")
    ContactFactory(customer=bob, name="Wendy Helper", email="wendy@build.example", phone="")
    return {"ada": ada, "bob": bob}


def found(text):
    return set(Customer.objects.search(text).values_list("account_number", flat=True))


@pytest.mark.parametrize(
    "text",
    [
        "A100234",  # account number, exact
        "a1002",  # account number fragment, any case
        "Lovelace",  # customer name
        "ada love",  # name fragment across words
        "Babbage",  # contact name
        "charles@engine",  # email fragment
        "Analytical",  # street
        "ls1 4ap",  # postcode
    ],
)
def test_each_field_is_found(people, text):
    assert found(text) == {"A100234"}


@pytest.mark.parametrize(
    "text",
    ["07911 123", "+44 7911", "7911123456", "(07911) 123-456", "0044 7911 123456", "447911"],
)
def test_phone_in_any_format(people, text):
    assert found(text) == {"A100234"}


def test_no_match_and_blank(people):
    assert found("Nobody Here") == set()
    assert found("   ") == {"A100234", "B200555"}
    assert found("%") == set()
    assert found("_") == set()


def test_short_text_still_searches(people):
    assert found("Bo") == {"B200555"}


def test_quotes_and_operators_are_plain_text(people):
    assert found('"Ada') == set()
    assert found("Ada OR Bob") == set()
    assert found("NOT Ada") == set()


def test_index_follows_edits_and_deletes(people):
    ada = people["ada"]
    ada.name = "Augusta King"
    ada.save()
    assert found("Augusta") == {"A100234"}
    assert found("Lovelace") == set()
    contact = Contact.objects.get(customer=ada)
    contact.mobile = "+447700900777"
    contact.save()
    assert found("07700 900777") == {"A100234"}
    contact.delete()
    assert found("Babbage") == set()
    assert found("Augusta") == {"A100234"}
    ada.delete()
    assert found("Augusta") == set()


def test_contact_moved_to_another_customer(people):
    contact = Contact.objects.get(customer=people["ada"])
    contact.customer = people["bob"]
    contact.save()
    assert found("Babbage") == {"B200555"}


def test_rebuild_recreates_the_index(people):
    assert rebuild() == 2
    assert found("Babbage") == {"A100234"}
    assert found("07911 123") == {"A100234"}


def test_bulk_created_rows_are_indexed(db):
    customers = Customer.objects.bulk_create(
        [
            CustomerFactory.build(account_number=f"Z{i:05d}", name=f"Bulk Person {i}")
            for i in range(30)
        ]
    )
    Contact.objects.bulk_create(
        [Contact(customer=c, name=f"Bulky Contact {c.account_number}") for c in customers]
    )
    assert found("Bulk Person 7") == {"Z00007"}
    assert found("Bulky Contact Z00029") == {"Z00029"}


def test_restricted_user_never_finds_other_customers(people, staff):
    north = GroupFactory(name="North")
    GroupMembership.objects.create(
        customer=people["bob"], group=north, group_set=north.group_set, exclusive=True
    )
    staff.restricted_groups.set([north])
    visible = Customer.objects.restrict(staff, "view")
    assert set(visible.search("Babbage")) == set()
    assert set(visible.search("07911 123")) == set()
    assert set(visible.search("Wendy")) == {people["bob"]}


def test_search_box_and_api_use_the_index(people, client, owner, api):
    client.force_login(owner)
    page = client.get("/customers/", {"q": "07911 123"})
    assert b"Ada Lovelace" in page.content
    assert b"Bob Builder" not in page.content
    body = api["owner"].get("/api/customers/", {"q": "wendy@build"}).json()
    assert [row["account_number"] for row in body["results"]] == ["B200555"]


@pytest.mark.parametrize(
    "text,digits",
    [
        ("07911 123", "7911123"),
        ("+44 7911", "447911"),
        ("0044 79", "4479"),
        ("Ada", ""),
        ("12", ""),
    ],
)
def test_phone_digits(text, digits):
    assert phone_digits(text) == digits


def test_reindex_command(people):
    out = io.StringIO()
    call_command("search_reindex", stdout=out)
    assert out.getvalue().strip() == "Indexed 2 customers."
    assert found("Babbage") == {"A100234"}


# --- without regard to accents (CUS-8) -----------------------------------------------------


@pytest.fixture
def abroad(db):
    """Customers whose names, company, address and email carry accents, and one without."""
    muller = CustomerFactory(
        account_number="D300001",
        name="Jürgen Müller",
        first_name="Jürgen",
        last_name="Müller",
        company_name="Crème Brûlée SARL",
        external_reference="NW-ÉPICE",
        service_street="Straße des 17. Juni 5",
        service_city="Zürich",
        service_country="CH",
    )
    ContactFactory(
        customer=muller, name="José Núñez", email="jose@bücher.example", phone="+41446681800"
    )
    plain = CustomerFactory(account_number="E400002", name="Jose Smith", service_city="Leon")
    ContactFactory(
        customer=plain,
        name="Old Number",
        email="",
        phone="",
        fax="(171) 555-7788",
        fax_unverified=True,
    )
    return {"muller": muller, "plain": plain}


@pytest.mark.parametrize(
    "text",
    [
        "Muller",  # no accent finds the accented name
        "MÜLLER",  # any case, with the accent
        "jurgen mul",
        "creme brulee",  # company name
        "brûlée",
        "strasse des",  # ß folds to ss
        "zurich",  # city
        "nunez",  # contact name
        "bucher.example",  # email with an international domain
        "nw-epice",  # external reference
    ],
)
def test_accents_and_case_are_ignored(abroad, text):
    assert found(text) == {"D300001"}


def test_accented_search_finds_the_plain_spelling_too(abroad):
    """A search for José finds both José Núñez's account and Jose Smith."""
    assert found("José") == {"D300001", "E400002"}
    assert found("Jose") == {"D300001", "E400002"}
    assert found("Léon") == {"E400002"}


def test_short_text_ignores_accents(abroad):
    assert found("Jü") == found("ju") == {"D300001"}


def test_foreign_and_unverified_numbers_are_found(abroad):
    # Stored with their own country code; found in international or national form.
    assert found("+41 44 668 18 00") == {"D300001"}
    assert found("044 668 18 00") == {"D300001"}
    # A number kept as written is searched by its digits.
    assert found("(171) 555-7788") == {"E400002"}
    assert found("171 555") == {"E400002"}


def test_edits_are_folded_too(abroad):
    customer = abroad["plain"]
    customer.name = "Zoë Brontë"
    customer.save()
    assert found("zoe bronte") == {"E400002"}
    assert found("Jose Smith") == set()
