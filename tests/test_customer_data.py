"""CUS-9: customers from any country, through the service, the profile form and the API.

Countries are ISO 3166-1 codes (an empty one is the home country, if there is
one), regions ISO 3166-2 where pycountry knows the country's subdivisions,
phone numbers are read in the contact's or customer's country, tax numbers
are checked per country, and a person's name is made from first and last name.
"""

import pytest
from django.urls import reverse

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.countries import parse_country, parse_region
from patron.customers.models import Contact, Customer
from patron.customers.phones import display_phone, normalise_phone, parse_phone
from patron.customers.taxnumbers import validate_tax_number
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from tests.factories import CustomerFactory, GroupFactory

pytestmark = pytest.mark.django_db

URL = "/api/customers/"
UK_MESSAGE = "“UK” is not an ISO country code: did you mean GB, United Kingdom?"
XX_MESSAGE = (
    "“XX” is not a country code. Use the two-letter ISO 3166-1 code, "
    "e.g. GB for the United Kingdom or DE for Germany."
)
NO_HOME_MESSAGE = (
    "Give a country: this installation has no home country to assume "
    "(PATRON_DEFAULT_COUNTRY is empty)."
)
WRONG_COUNTRY_PHONE = (
    "“020 7946 0018” is not a valid number for Germany (DE). It is a number in "
    "United Kingdom (GB): if that is meant, write it as +44 20 7946 0018."
)
WRONG_VAT = "“DE136695977” is not a valid VAT number for Germany (DE): the check digit is wrong."


def active():
    return Status.objects.get(name="Active")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def no_home_country(settings):
    settings.PATRON_DEFAULT_COUNTRY = ""


# --- the functions the import calls too ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [("GB", "GB"), ("de", "DE"), ("USA", "US"), ("Germany", "DE"), ("côte d'ivoire", "CI")],
)
def test_parse_country_reads_codes_and_names(value, code):
    assert parse_country(value) == code


@pytest.mark.parametrize(("value", "message"), [("UK", UK_MESSAGE), ("XX", XX_MESSAGE)])
def test_parse_country_refuses_what_is_not_iso(value, message):
    with pytest.raises(ValidationError) as exc:
        parse_country(value)
    assert exc.value.messages == [message]


def test_parse_country_suggests_a_close_name():
    with pytest.raises(ValidationError) as exc:
        parse_country("Untied Kingdom")
    assert exc.value.messages == [
        "“Untied Kingdom” is not a country Patron knows: did you mean GB, United Kingdom?"
    ]


def test_empty_country_is_the_home_country_only_when_there_is_one(settings):
    settings.PATRON_DEFAULT_COUNTRY = "DE"
    assert parse_country("") == "DE"
    assert parse_country("", default="FR") == "FR"
    settings.PATRON_DEFAULT_COUNTRY = ""
    with pytest.raises(ValidationError) as exc:
        parse_country("")
    assert exc.value.messages == [NO_HOME_MESSAGE]


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("CA", "US", "US-CA"),
        ("us-ca", "US", "US-CA"),
        ("California", "US", "US-CA"),
        ("Quebec", "CA", "CA-QC"),
        ("Québec", "CA", "CA-QC"),
        ("Co. Cork", "IE", "IE-CO"),
        ("DF", "MX", "MX-CMX"),
        ("Somewhere", "AQ", "Somewhere"),  # no subdivisions known: kept as written
        ("", "US", ""),
    ],
)
def test_parse_region(value, country, code):
    assert parse_region(value, country) == code


def test_unknown_region_of_a_country_with_subdivisions_is_refused_unless_kept():
    with pytest.raises(ValidationError) as exc:
        parse_region("Atlantis", "US")
    assert exc.value.messages[0].startswith(
        "“Atlantis” is not a region of United States (US). Use its ISO 3166-2 code or name"
    )
    assert parse_region("Atlantis", "US", keep_unknown=True) == "Atlantis"


def test_phone_is_read_in_the_given_country():
    assert normalise_phone("030 1234567", "DE") == "+49301234567"
    assert normalise_phone("(503) 555-9931", "US") == "+15035559931"
    assert normalise_phone("+49 30 1234567", "GB") == "+49301234567"
    assert normalise_phone("020 7946 0018") == "+442079460018"  # the home country


def test_phone_valid_at_home_but_written_for_another_country_names_both():
    with pytest.raises(ValidationError) as exc:
        normalise_phone("020 7946 0018", "DE")
    assert exc.value.messages == [WRONG_COUNTRY_PHONE]


def test_invalid_legacy_phone_is_kept_as_written_only_when_asked():
    assert parse_phone("555-HELLO", "US", keep_invalid=True).number == "555-HELLO"
    assert parse_phone("555-HELLO", "US", keep_invalid=True).verified is False
    assert parse_phone("(503) 555-9931", "US", keep_invalid=True).verified is True
    with pytest.raises(ValidationError) as exc:
        parse_phone("555-HELLO", "US")
    assert exc.value.messages[0].startswith(
        "“555-HELLO” is not a valid number for United States (US)."
    )


def test_phone_shown_national_at_home_and_international_otherwise(settings):
    settings.PATRON_DEFAULT_COUNTRY = "GB"
    assert display_phone("+442079460018") == "020 7946 0018"
    assert display_phone("+49301234567") == "+49 30 1234567"
    assert display_phone("555-HELLO") == "555-HELLO"
    settings.PATRON_DEFAULT_COUNTRY = "DE"
    assert display_phone("+49301234567") == "030 1234567"


@pytest.mark.parametrize(
    ("value", "country", "stored"),
    [
        ("DE 136 695 976", "DE", "DE136695976"),
        ("136695976", "DE", "DE136695976"),
        ("GB980780684", "GB", "GB980780684"),
        ("FR 40 303 265 045", "DE", "FR40303265045"),  # another member state's number
        ("anything 123", "AQ", "anything 123"),  # format unknown: kept as written
        ("", "DE", ""),
    ],
)
def test_tax_number_checked_per_country(value, country, stored):
    assert validate_tax_number(value, country) == stored


def test_tax_number_with_a_wrong_check_digit_names_the_country():
    with pytest.raises(ValidationError) as exc:
        validate_tax_number("DE136695977", "DE")
    assert exc.value.messages == [WRONG_VAT]
    with pytest.raises(ValidationError) as exc:
        validate_tax_number("980780683", "GB")
    assert exc.value.messages == [
        "“980780683” is not a valid VAT or tax number for United Kingdom (GB): "
        "the check digit is wrong."
    ]


# --- the service ---------------------------------------------------------------------------


def create(actor, **data):
    return services.customer_create(actor=actor, data={"status": active(), **data})


def test_empty_country_becomes_the_home_country(actor, settings):
    settings.PATRON_DEFAULT_COUNTRY = "IE"
    customer = create(actor, name="Aoife")
    assert customer.service_country == "IE"
    assert customer.billing_country == ""  # billing as service address: nothing to assume


@pytest.mark.parametrize(("value", "message"), [("UK", UK_MESSAGE), ("XX", XX_MESSAGE)])
def test_service_refuses_a_country_that_is_not_iso(actor, value, message):
    with pytest.raises(ValidationError) as exc:
        create(actor, name="Ann", service_country=value)
    assert exc.value.message_dict == {"service_country": [message]}
    assert not Customer.objects.exists()


def test_empty_country_without_a_home_country_is_refused(actor, no_home_country):
    with pytest.raises(ValidationError) as exc:
        create(actor, name="Ann")
    assert exc.value.message_dict == {"service_country": [NO_HOME_MESSAGE]}
    assert not Customer.objects.exists()


def test_billing_address_elsewhere_takes_the_service_country(actor):
    customer = create(
        actor,
        name="Ann",
        service_country="US",
        service_region="California",
        billing_same_as_service=False,
        billing_street="1 Main St",
        billing_region="OR",
    )
    assert (customer.service_region, customer.billing_country, customer.billing_region) == (
        "US-CA",
        "US",
        "US-OR",
    )


def test_region_of_the_wrong_country_is_refused(actor):
    with pytest.raises(ValidationError) as exc:
        create(actor, name="Ann", service_country="DE", service_region="California")
    assert list(exc.value.message_dict) == ["service_region"]
    assert not Customer.objects.exists()


def test_person_name_is_made_from_first_and_last_name(actor):
    customer = create(actor, name="", first_name="José", last_name="Müller", service_country="ES")
    assert customer.name == "José Müller"
    customer = services.customer_update(actor=actor, customer=customer, data={"last_name": "Ruiz"})
    customer.refresh_from_db()
    assert customer.name == "José Ruiz"
    event = Event.objects.filter(customer=customer, action="updated").latest("id")
    assert set(event.changes) >= {"last_name", "name"}


def test_company_name_is_the_display_name_of_a_company(actor):
    customer = create(
        actor, name="", kind="company", company_name="Königlich Essen GmbH", service_country="DE"
    )
    assert customer.name == "Königlich Essen GmbH"


def test_tax_number_is_checked_for_the_billing_country(actor):
    customer = create(actor, name="Acme", service_country="DE", tax_number="136695976")
    assert customer.tax_number == "DE136695976"
    with pytest.raises(ValidationError) as exc:
        services.customer_update(actor=actor, customer=customer, data={"tax_number": "DE136695977"})
    assert exc.value.message_dict == {"tax_number": [WRONG_VAT]}
    customer.refresh_from_db()
    assert customer.tax_number == "DE136695976"


def test_external_reference_is_unique_when_set(actor):
    first = create(actor, name="One", external_reference="ALFKI")
    create(actor, name="Two", external_reference="")
    create(actor, name="Three")  # several without one
    assert Customer.objects.filter(external_reference__isnull=True).count() == 2
    with pytest.raises(ValidationError) as exc:
        create(actor, name="Four", external_reference="ALFKI")
    assert exc.value.message_dict == {
        "external_reference": ["External reference ALFKI is already used by another customer."]
    }
    assert Customer.objects.get(external_reference="ALFKI") == first


def test_external_reference_of_a_hidden_customer_is_not_revealed(staff):
    """Someone restricted to groups is not told that a customer they cannot see holds it."""
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    CustomerFactory(name="Hidden", external_reference="SECRET")
    staff.restricted_groups.set([north])
    staff = type(staff).objects.get(pk=staff.pk)
    with pytest.raises(ValidationError) as exc:
        services.customer_create(
            actor=Actor(user=staff),
            data={"name": "New", "status": active(), "external_reference": "SECRET"},
            groups=[north],
        )
    assert exc.value.message_dict == {
        "external_reference": [
            "External reference SECRET cannot be used. Check it, or leave it empty."
        ]
    }
    assert Customer.objects.filter(name="New").count() == 0


def test_contact_phone_is_read_in_the_contact_then_customer_country(actor):
    customer = create(actor, name="Berlin GmbH", service_country="DE")
    contact = services.contact_create(
        actor=actor, customer=customer, data={"name": "Jan", "phone": "030 1234567"}
    )
    assert contact.phone == "+49301234567"
    contact = services.contact_create(
        actor=actor,
        customer=customer,
        data={"name": "Ann", "country": "US", "mobile": "(503) 555-9931"},
    )
    assert contact.mobile == "+15035559931"


def test_contact_phone_valid_at_home_but_not_in_the_customer_country(actor):
    customer = create(actor, name="Berlin GmbH", service_country="DE")
    with pytest.raises(ValidationError) as exc:
        services.contact_create(
            actor=actor, customer=customer, data={"name": "Jan", "phone": "020 7946 0018"}
        )
    assert exc.value.message_dict == {"phone": [WRONG_COUNTRY_PHONE]}
    assert not Contact.objects.exists()


def test_contact_keeps_an_invalid_number_as_written_when_asked(actor):
    customer = create(actor, name="Old Data Ltd", service_country="GB")
    contact = services.contact_create(
        actor=actor,
        customer=customer,
        data={"name": "Legacy", "fax": "(171) 555-7788", "fax_unverified": True},
    )
    assert (contact.fax, contact.fax_unverified) == ("(171) 555-7788", True)
    # A corrected number is stored verified; a new invalid one is refused unless asked.
    contact = services.contact_update(actor=actor, contact=contact, data={"fax": "020 7946 0018"})
    assert (contact.fax, contact.fax_unverified) == ("+442079460018", False)
    with pytest.raises(ValidationError):
        services.contact_update(actor=actor, contact=contact, data={"fax": "(171) 555-7788"})


def test_contact_name_from_first_and_last_name_and_idn_email(actor):
    customer = create(actor, name="Ann")
    contact = services.contact_create(
        actor=actor,
        customer=customer,
        data={"first_name": "Zoë", "last_name": "Brontë", "email": "zoe@bücher.example"},
    )
    assert (contact.name, contact.email) == ("Zoë Brontë", "zoe@bücher.example")


# --- the profile form ------------------------------------------------------------------------


def post_form(client, **fields):
    data = {"name": "Form Test", "kind": "person", "status": active().pk, **fields}
    return client.post(reverse("customers:add"), data)


@pytest.mark.parametrize(("value", "message"), [("UK", UK_MESSAGE), ("XX", XX_MESSAGE)])
def test_form_refuses_a_country_that_is_not_iso(owner_client, value, message):
    response = post_form(owner_client, service_country=value)
    assert response.status_code == 400
    assert response.context["form"].errors["service_country"] == [message]
    assert not Customer.objects.exists()


def test_form_empty_country_without_home_country(owner_client, no_home_country):
    response = post_form(owner_client)
    assert response.status_code == 400
    assert NO_HOME_MESSAGE in response.context["form"].errors["service_country"]
    assert not Customer.objects.exists()


def test_form_phone_written_for_another_country(owner_client):
    response = post_form(
        owner_client, service_country="DE", contact_name="Jan", contact_phone="020 7946 0018"
    )
    assert response.status_code == 400
    assert WRONG_COUNTRY_PHONE in response.content.decode()
    assert not Customer.objects.exists()


def test_form_vat_number_with_a_wrong_check_digit(owner_client):
    response = post_form(owner_client, service_country="DE", tax_number="DE136695977")
    assert response.status_code == 400
    assert response.context["form"].errors["tax_number"] == [WRONG_VAT]
    assert not Customer.objects.exists()


def test_form_saves_names_region_country_and_idn_email(owner_client):
    response = post_form(
        owner_client,
        name="",
        first_name="José",
        last_name="Müller",
        service_country="US",
        service_region="California",
        tax_number="12-3456789",
        external_reference="NW-ALFKI",
        contact_name="José",
        contact_email="jose@münchen.example",
        contact_phone="(503) 555-9931",
    )
    assert response.status_code == 302, response.context["form"].errors
    customer = Customer.objects.get()
    assert (customer.name, customer.service_country, customer.service_region) == (
        "José Müller",
        "US",
        "US-CA",
    )
    assert customer.external_reference == "NW-ALFKI"
    contact = customer.contacts.get()
    assert (contact.email, contact.phone) == ("jose@münchen.example", "+15035559931")
    page = owner_client.get(customer.get_absolute_url()).content.decode()
    assert "California" in page and "United States" in page
    assert "+1 503-555-9931" in page  # not the home country: international format


def test_form_needs_some_name(owner_client):
    response = post_form(owner_client, name="")
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Give the customer a name, or a first and last name."
    ]


def test_contact_form_country_and_keep_as_written(owner_client, actor):
    customer = create(actor, name="Ann", service_country="GB")
    url = reverse("customers:contact_add", args=[customer.pk])
    response = owner_client.post(url, {"first_name": "Jan", "country": "UK"})
    assert response.status_code == 400
    assert response.context["form"].errors["country"] == [UK_MESSAGE]
    response = owner_client.post(
        url, {"first_name": "Jan", "country": "DE", "phone": "(030) 12-AB"}
    )
    assert response.status_code == 400
    assert "is not a valid number for Germany (DE)" in response.content.decode()
    response = owner_client.post(
        url,
        {
            "first_name": "Jan",
            "last_name": "Kowalski",
            "country": "DE",
            "phone": "(030) 12-AB",
            "phone_unverified": "on",
        },
    )
    assert response.status_code == 302
    contact = customer.contacts.get()
    assert (contact.name, contact.phone, contact.phone_unverified) == (
        "Jan Kowalski",
        "(030) 12-AB",
        True,
    )
    page = owner_client.get(customer.get_absolute_url()).content.decode()
    assert "unverified" in page


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [("UK", UK_MESSAGE), ("XX", XX_MESSAGE)])
def test_api_refuses_a_country_that_is_not_iso(api, value, message):
    response = api["owner"].post(
        URL, {"name": "Ann", "status": active().pk, "service_country": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["service_country"] == [message]
    assert not Customer.objects.exists()


def test_api_empty_country_without_home_country(api, no_home_country):
    response = api["owner"].post(URL, {"name": "Ann", "status": active().pk}, format="json")
    assert response.status_code == 400
    assert response.json()["service_country"] == [NO_HOME_MESSAGE]
    assert not Customer.objects.exists()


def test_api_phone_written_for_another_country(api):
    response = api["owner"].post(
        URL,
        {
            "name": "Berlin GmbH",
            "status": active().pk,
            "service_country": "DE",
            "contacts": [{"name": "Jan", "phone": "020 7946 0018"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert WRONG_COUNTRY_PHONE in str(response.json())
    assert not Customer.objects.exists()


def test_api_vat_number_with_a_wrong_check_digit(api):
    customer = CustomerFactory(service_country="DE")
    response = api["owner"].patch(
        f"{URL}{customer.pk}/", {"tax_number": "DE136695977"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["tax_number"] == [WRONG_VAT]
    customer.refresh_from_db()
    assert customer.tax_number == ""


def test_api_creates_a_customer_from_abroad(api):
    response = api["owner"].post(
        URL,
        {
            "first_name": "Zoë",
            "last_name": "Müller",
            "status": active().pk,
            "service_country": "de",
            "service_region": "Bayern",
            "tax_number": "136695976",
            "external_reference": "LEGACY-7",
            "contacts": [
                {
                    "first_name": "Zoë",
                    "email": "zoe@bücher.example",
                    "phone": "089 1234567",
                    "fax": "12",
                    "fax_unverified": True,
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["service_country"], body["service_region"]) == (
        "Zoë Müller",
        "DE",
        "DE-BY",
    )
    assert (body["tax_number"], body["external_reference"]) == ("DE136695976", "LEGACY-7")
    contact = body["contacts"][0]
    assert (contact["email"], contact["phone"], contact["fax"], contact["fax_unverified"]) == (
        "zoe@bücher.example",
        "+49891234567",
        "12",
        True,
    )


def test_api_contact_needs_some_name(api):
    customer = CustomerFactory()
    response = api["owner"].post(
        "/api/contacts/", {"customer": customer.pk, "email": "a@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["name"] == ["Give the contact a name, or a first and last name."]
    assert not Contact.objects.exists()
