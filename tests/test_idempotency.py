"""Idempotency-Key (BIL-7): a retried request never moves money twice."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from patron.core.idempotency import idempotency_purge
from patron.core.models import IdempotencyKey
from patron.ledger.models import Kind, LedgerEntry
from patron.payments.models import Payment
from tests.factories import CustomerFactory
from tests.payments_fixtures import DAY, make_invoice

D = Decimal
PAYMENTS = "/api/payments/"


@pytest.mark.django_db
def test_same_key_same_body_replays_and_moves_nothing(api):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "12.00", "method": "Cash"}
    first = api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-1"})
    again = api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=Kind.PAYMENT).count() == 1


@pytest.mark.django_db
def test_same_key_different_amount_is_422(api):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "12.00", "method": "Cash"}
    api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-2"})
    changed = api["owner"].post(
        PAYMENTS, {**body, "amount": "13.00"}, format="json", headers={"Idempotency-Key": "k-2"}
    )
    assert changed.status_code == 422
    assert "already used for a different request" in changed.json()["detail"]
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_user_and_a_failed_request_keeps_no_key(api):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "0", "method": "Cash"}
    bad = api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-3"})
    assert bad.status_code == 400 and not IdempotencyKey.objects.exists()
    body["amount"] = "1.00"
    ok = api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-3"})
    assert ok.status_code == 201
    other = api["admin"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "k-3"})
    assert other.status_code == 201 and other.json()["id"] != ok.json()["id"]


@pytest.mark.django_db
def test_refund_and_group_payment_are_idempotent_too(api, actor):
    from tests.payments_fixtures import payment_group

    customer = CustomerFactory()
    make_invoice(actor, customer, "10.00", DAY)
    payment = (
        api["owner"]
        .post(
            PAYMENTS, {"customer": customer.pk, "amount": "10.00", "method": "Cash"}, format="json"
        )
        .json()
    )
    for _ in range(2):
        api["owner"].post(
            f"{PAYMENTS}{payment['id']}/refund/",
            {"amount": "4.00", "reason": "Retry"},
            format="json",
            headers={"Idempotency-Key": "refund-1"},
        )
    assert Payment.objects.filter(kind="refund").count() == 1
    group, _members = payment_group(members=2)
    for _ in range(2):
        api["owner"].post(
            f"/api/groups/{group.pk}/payments/",
            {"amount": "7.00", "method": "Cash"},
            format="json",
            headers={"Idempotency-Key": "group-1"},
        )
    assert Payment.objects.filter(group=group).count() == 1


@pytest.mark.django_db
def test_keys_expire_after_the_retention(api, settings):
    settings.PATRON_IDEMPOTENCY_HOURS = 24
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "2.00", "method": "Cash"}
    api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "old"})
    IdempotencyKey.objects.update(created=timezone.now() - datetime.timedelta(hours=25))
    assert idempotency_purge() == 1
    api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "old"})
    assert Payment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_identical_requests_racing_make_one_payment(users):
    from patron.ops.defaults import ensure_defaults
    from patron.payments.defaults import ensure_default_payment_methods
    from tests.conftest import token_client

    ensure_defaults()
    ensure_default_payment_methods()
    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "25.00", "method": "Cash"}
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            client = token_client(users["owner"])
            barrier.wait()
            response = client.post(
                PAYMENTS, body, format="json", headers={"Idempotency-Key": "race-1"}
            )
            results.append((response.status_code, response.json().get("id")))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {status for status, _ in results} == {201}
    assert len({pid for _, pid in results}) == 1
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=Kind.PAYMENT).count() == 1


@pytest.mark.django_db
def test_a_ledger_adjustment_is_idempotent(api):
    customer = CustomerFactory()
    url = f"/api/customers/{customer.pk}/ledger/"
    body = {"amount": "5.00", "reason": "Goodwill"}
    for _ in range(2):
        response = api["owner"].post(url, body, format="json", headers={"Idempotency-Key": "adj"})
        assert response.status_code == 201
    assert LedgerEntry.objects.filter(kind=Kind.ADJUSTMENT).count() == 1
    changed = api["owner"].post(
        url, {**body, "amount": "6.00"}, format="json", headers={"Idempotency-Key": "adj"}
    )
    assert changed.status_code == 422


@pytest.mark.django_db
def test_the_scheduled_pass_forgets_old_keys(api):
    from patron.ops.schedule import scheduled_pass

    customer = CustomerFactory()
    body = {"customer": customer.pk, "amount": "2.00", "method": "Cash"}
    api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "kept"})
    api["owner"].post(PAYMENTS, body, format="json", headers={"Idempotency-Key": "gone"})
    IdempotencyKey.objects.filter(key="gone").update(
        created=timezone.now() - datetime.timedelta(hours=25)
    )
    assert scheduled_pass()["idempotency_keys_expired"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["kept"]
