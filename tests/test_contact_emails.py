"""International email addresses (non-ASCII part before the "@"): one check, in
`patron.core.emails`, for the import, the contact form and the API."""

import pytest
from django.core.exceptions import ValidationError

from patron.core.emails import MESSAGE, validate_international_email
from patron.customers.forms import ContactForm
from patron.imports.emails import check_email
from tests.conftest import token_client
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

GOOD = ["josé@example.es", "müller@beispiel.de", "ann@example.com"]
BAD = ["not an email", "ann@@example", "josé@", "@example.es"]


@pytest.mark.parametrize("address", GOOD)
def test_the_one_check_accepts_international_addresses(address):
    assert check_email(address)
    validate_international_email(address)


@pytest.mark.parametrize("address", BAD)
def test_the_one_check_refuses_what_is_not_an_address_with_a_clear_message(address):
    assert not check_email(address)
    with pytest.raises(ValidationError) as exc:
        validate_international_email(address)
    assert exc.value.messages == [MESSAGE]


def test_the_import_accepts_the_same_set(actor, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patron.imports.services import import_upload
    from patron.jobs.services import job_run

    settings.DATA_DIR = tmp_path
    content = "name,contact_name,contact_email\n" + "".join(
        f"C{i},P{i},{a}\n" for i, a in enumerate([*GOOD, "not an email"])
    )
    upload = import_upload(actor=actor, upload=SimpleUploadedFile("c.csv", content.encode("utf-8")))
    job_run(upload.check_job_id)
    upload.refresh_from_db()
    assert [(e["row"], e["column"]) for e in upload.errors] == [(len(GOOD) + 2, "contact_email")]


@pytest.mark.parametrize("address", ["josé@example.es", "müller@beispiel.de"])
def test_the_contact_form_and_api_accept_international_addresses(owner, address):
    customer = CustomerFactory()
    form = ContactForm(data={"name": "Ann", "email": address}, user=owner)
    assert form.is_valid(), form.errors
    response = token_client(owner).post(
        "/api/contacts/", {"customer": customer.pk, "name": "Ann", "email": address}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == address


def test_the_contact_form_and_api_refuse_not_an_email_clearly(owner):
    customer = CustomerFactory()
    form = ContactForm(data={"name": "Ann", "email": "not an email"}, user=owner)
    assert not form.is_valid() and form.errors["email"] == [MESSAGE]
    response = token_client(owner).post(
        "/api/contacts/",
        {"customer": customer.pk, "name": "Ann", "email": "not an email"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["email"] == [MESSAGE]
