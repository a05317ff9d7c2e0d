"""The payments API: record, list, refund, reverse, group statement and group payment."""

from decimal import Decimal

import pytest

from patron.ledger.services import balance_of
from patron.payments.models import Payment
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory, user_with_role
from tests.payments_fixtures import DAY, add_member, make_invoice, payment_group

pytestmark = pytest.mark.django_db

D = Decimal
PAYMENTS = "/api/payments/"


def test_record_a_payment_and_read_it_back(api, actor):
    customer = CustomerFactory()
    invoice = make_invoice(actor, customer, "45.00", DAY)
    response = api["owner"].post(
        PAYMENTS,
        {"customer": customer.pk, "amount": "50.00", "method": "Bank transfer", "reference": "TX1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["unallocated"], body["method_name"]) == (
        "50.00",
        "5.00",
        "Bank transfer",
    )
    assert [(a["invoice"], a["amount"]) for a in body["allocations"]] == [(invoice.pk, "45.00")]
    assert balance_of(customer) == D("-5.00")
    listed = api["owner"].get(PAYMENTS, {"customer": customer.pk}).json()["results"]
    assert [p["id"] for p in listed] == [body["id"]]
    assert api["owner"].get(PAYMENTS, {"method": "Cash"}).json()["results"] == []
    assert api["staff"].get(f"{PAYMENTS}{body['id']}/").status_code == 200


@pytest.mark.parametrize(
    ("amount", "message"), [("0", "zero"), ("10.005", "at most 2 decimals"), ("ten", "amount")]
)
def test_bad_amounts_are_400(api, amount, message):
    customer = CustomerFactory()
    response = api["owner"].post(
        PAYMENTS, {"customer": customer.pk, "amount": amount, "method": "Cash"}, format="json"
    )
    assert response.status_code == 400
    assert message in str(response.json())
    assert not Payment.objects.exists()


def test_staff_and_readonly_may_not_record(api):
    customer = CustomerFactory()
    for role in ("staff", "readonly"):
        response = api[role].post(
            PAYMENTS, {"customer": customer.pk, "amount": "5", "method": "Cash"}, format="json"
        )
        assert response.status_code == 403
    assert api["anon"].get(PAYMENTS).status_code == 401


def test_refund_and_reverse(api, actor):
    customer = CustomerFactory()
    make_invoice(actor, customer, "20.00", DAY)
    payment = (
        api["owner"]
        .post(
            PAYMENTS,
            {"customer": customer.pk, "amount": "20.00", "method": "Cheque"},
            format="json",
        )
        .json()
    )
    too_much = api["owner"].post(
        f"{PAYMENTS}{payment['id']}/refund/", {"amount": "25.00", "reason": "x"}, format="json"
    )
    assert too_much.status_code == 400 and "At most £20.00" in str(too_much.json())
    refund = api["owner"].post(
        f"{PAYMENTS}{payment['id']}/refund/", {"amount": "5.00", "reason": "Sorry"}, format="json"
    )
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"
    reverse = api["owner"].post(
        f"{PAYMENTS}{payment['id']}/reverse/", {"reason": "Bounced"}, format="json"
    )
    assert reverse.status_code == 201 and reverse.json()["amount"] == "15.00"
    assert balance_of(customer) == D("20.00")
    assert api["owner"].patch(f"{PAYMENTS}{payment['id']}/", {}, format="json").status_code == 405


def test_group_statement_and_group_payment(api, actor):
    group, (a, b) = payment_group(members=2)
    make_invoice(actor, a, "30.00", DAY)
    make_invoice(actor, b, "30.00", DAY)
    url = f"/api/groups/{group.pk}/payments/"
    statement = api["owner"].get(url).json()
    assert (statement["members"], statement["open_count"], statement["outstanding"]) == (
        2,
        2,
        "60.00",
    )
    response = api["owner"].post(url, {"amount": "45.00", "method": "Card"}, format="json")
    assert response.status_code == 201, response.json()
    assert sorted(a["amount"] for a in response.json()["allocations"]) == ["15.00", "30.00"]
    assert api["owner"].get(url).json()["outstanding"] == "15.00"

    plain = GroupFactory(name="Plain", group_set=GroupSetFactory(single_choice=False))
    refused = api["owner"].post(
        f"/api/groups/{plain.pk}/payments/", {"amount": "5", "method": "Card"}, format="json"
    )
    assert refused.status_code == 400 and "not a payment group" in str(refused.json())


def test_restricted_user_sees_and_pays_only_their_members(actor):
    from tests.conftest import token_client

    group, (inside, outside) = payment_group(members=2)
    north = GroupFactory(name="North", group_set=GroupSetFactory(single_choice=False))
    add_member(north, inside)
    cashier = user_with_role("Administrator", username="cashier")
    cashier.restricted_groups.set([north])
    client = token_client(cashier)
    make_invoice(actor, outside, "10.00", DAY)
    other = client.post(
        PAYMENTS, {"customer": outside.pk, "amount": "5", "method": "Cash"}, format="json"
    )
    assert other.status_code == 400 and "No such customer" in str(other.json())
    statement = client.get(f"/api/groups/{group.pk}/payments/").json()
    assert (statement["members"], statement["members_left_out"]) == (1, 1)
    assert statement["open_invoices"] == []


def test_the_schema_documents_the_idempotency_key(api):
    schema = api["owner"].get("/api/schema/", {"format": "json"}).json()
    for path, method in [
        ("/api/payments/", "post"),
        ("/api/payments/{id}/refund/", "post"),
        ("/api/payments/{id}/reverse/", "post"),
        ("/api/groups/{group_id}/payments/", "post"),
    ]:
        names = [p["name"] for p in schema["paths"][path][method]["parameters"]]
        assert "Idempotency-Key" in names, path
