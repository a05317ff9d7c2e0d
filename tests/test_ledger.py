"""The ledger (BIL-3): append-only entries, exact running balances, one narrow balance row."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import Role, User
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers import services as customer_services
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.ledger.models import AppendOnlyError, Balance, Book, Kind, LedgerEntry
from patron.ledger.services import (
    Posting,
    balance_of,
    balances_out_of_step,
    ledger_adjust,
    ledger_post,
    ledger_post_many,
)
from tests.factories import CustomerFactory, GroupFactory, TagFactory, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal


def post(actor, customer, kind, amount, **kwargs):
    return ledger_post(actor=actor, customer=customer, kind=kind, amount=D(amount), **kwargs)


# --- posting -----------------------------------------------------------------


def test_entries_carry_the_running_balance_and_the_balance_row_follows(actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "45.00", description="Invoice 1")
    post(actor, customer, Kind.PAYMENT, "-30.00")
    last = post(actor, customer, Kind.CREDIT, "-20.00")
    entries = list(LedgerEntry.objects.filter(customer=customer).order_by("id"))
    assert [e.running_balance for e in entries] == [D("45.00"), D("15.00"), D("-5.00")]
    balance = Balance.objects.get(customer=customer, book=Book.MONEY)
    assert (balance.amount, balance.entry_count, balance.last_entry_id) == (D("-5.00"), 3, last.pk)
    assert balance_of(customer) == D("-5.00")
    assert entries[0].actor_label == "olivia" and entries[0].actor_user.username == "olivia"


def test_a_customer_without_entries_has_a_zero_balance():
    assert balance_of(CustomerFactory()) == D("0.00")


def test_books_are_kept_apart(actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "10.00")
    post(actor, customer, Kind.CASHBACK_ACCRUAL, "5.00", book=Book.CASHBACK)
    assert balance_of(customer) == D("10.00")
    assert balance_of(customer, Book.CASHBACK) == D("5.00")


@pytest.mark.parametrize(
    ("kind", "amount", "book", "message"),
    [
        (Kind.INVOICE, "-1.00", Book.MONEY, "Invoice entries are positive"),
        (Kind.PAYMENT, "10.00", Book.MONEY, "Payment entries are negative"),
        (Kind.ADJUSTMENT, "0", Book.MONEY, "An entry of zero moves nothing"),
        (Kind.INVOICE, "1.005", Book.MONEY, "more decimals than the currency"),
        (Kind.CASHBACK_ACCRUAL, "1.00", Book.MONEY, "belong in the cashback book"),
        (Kind.INVOICE, "1.00", Book.CASHBACK, "belong in the money book"),
        ("gift", "1.00", Book.MONEY, "is not a kind of ledger entry"),
    ],
)
def test_bad_postings_are_refused_and_nothing_moves(actor, kind, amount, book, message):
    customer = CustomerFactory()
    with pytest.raises(ValidationError, match=message):
        ledger_post(actor=actor, customer=customer, kind=kind, amount=D(amount), book=book)
    assert not LedgerEntry.objects.exists() and not Balance.objects.exists()


def test_a_float_amount_is_refused(actor):
    with pytest.raises(ValidationError, match="not float"):
        ledger_post(actor=actor, customer=CustomerFactory(), kind=Kind.INVOICE, amount=0.1)


def test_post_many_is_all_or_nothing(actor):
    a, b = CustomerFactory(), CustomerFactory()
    post(actor, a, Kind.INVOICE, "1.00")
    postings = [
        Posting(customer_id=a.pk, kind=Kind.INVOICE, amount=D("10.00")),
        Posting(customer_id=b.pk, kind=Kind.INVOICE, amount=D("-10.00")),  # wrong sign
    ]
    with pytest.raises(ValidationError):
        ledger_post_many(actor=actor, postings=postings)
    assert LedgerEntry.objects.count() == 1 and balance_of(a) == D("1.00")
    assert not Balance.objects.filter(customer=b).exists()


def test_post_many_posts_many_customers_with_few_statements(actor):
    """One batch: running balances per customer in the order given, one shared batch id,
    balances updated for each; the statements do not grow with the entries."""
    customers = [CustomerFactory() for _ in range(30)]
    post(actor, customers[0], Kind.INVOICE, "100.00")
    postings = [
        Posting(customer_id=c.pk, kind=Kind.INVOICE, amount=D("12.34"), description="Fibre 500")
        for c in customers
    ] + [Posting(customer_id=c.pk, kind=Kind.PAYMENT, amount=D("-2.34")) for c in customers]
    with CaptureQueriesContext(connection) as queries:
        entries = ledger_post_many(actor=actor, postings=postings)
    assert len(queries) <= 10, [q["sql"][:80] for q in queries]
    assert len(entries) == 60 and len({e.batch for e in entries}) == 1
    assert all(e.pk for e in entries)
    first = list(LedgerEntry.objects.filter(customer=customers[0]).order_by("id"))
    assert [e.running_balance for e in first] == [D("100.00"), D("112.34"), D("110.00")]
    assert balance_of(customers[0]) == D("110.00") and balance_of(customers[5]) == D("10.00")
    assert Balance.objects.get(customer=customers[5]).entry_count == 2
    assert balances_out_of_step() == []


def test_post_many_links_the_source_document(actor):
    customer = CustomerFactory()
    source = TagFactory(name="Stands in for an invoice")
    entry = post(actor, customer, Kind.INVOICE, "5.00", source=source)
    assert entry.source_type.model == "tag" and entry.source_id == source.pk
    reversal = post(actor, customer, Kind.CREDIT_NOTE, "-5.00", reverses=entry)
    assert reversal.reverses == entry and list(entry.reversed_by.all()) == [reversal]


def test_a_restricted_user_cannot_post_to_a_customer_outside_their_groups(staff):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    staff.restricted_groups.set([north])
    staff = User.objects.get(pk=staff.pk)
    outside = CustomerFactory()
    with pytest.raises(PermissionDenied):
        post(Actor(user=staff), outside, Kind.INVOICE, "5.00")
    assert not LedgerEntry.objects.exists()


# --- append-only -------------------------------------------------------------


def test_entries_are_never_changed_or_deleted(actor):
    entry = post(actor, CustomerFactory(), Kind.INVOICE, "5.00")
    entry.amount = D("1.00")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("5.00")


# --- concurrency (PostgreSQL: real row locks) --------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_postings_keep_running_balances_exact():
    from tests.factories import active_status

    active_status()
    customer = CustomerFactory()
    actor = Actor.system_actor("tests")
    errors = []

    def worker():
        try:
            for _ in range(10):
                post(actor, customer, Kind.INVOICE, "1.10")
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
    entries = list(LedgerEntry.objects.filter(customer=customer).order_by("id"))
    assert [e.running_balance for e in entries] == [D("1.10") * n for n in range(1, 41)]
    balance = Balance.objects.get(customer=customer)
    assert (balance.amount, balance.entry_count) == (D("44.00"), 40)
    assert balances_out_of_step() == []


# --- manual adjustments -------------------------------------------------------


def test_an_adjustment_needs_a_reason_and_is_logged_on_the_customer(actor):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        ledger_adjust(actor=actor, customer=customer, amount="5.00", reason="  ")
    assert "Say why the balance is adjusted" in str(exc.value)
    entry = ledger_adjust(actor=actor, customer=customer, amount="-12.50", reason="Goodwill")
    assert (entry.kind, entry.amount, entry.reason) == (Kind.ADJUSTMENT, D("-12.50"), "Goodwill")
    event = Event.objects.get(action="balance_adjusted")
    assert event.customer == customer and event.reason == "Goodwill"
    assert event.message == "Adjusted the balance by \u2212£12.50"
    assert event.changes == {"balance": ["0.00", "-12.50"]}


@pytest.mark.parametrize(
    ("amount", "message"),
    [("12.345", "at most 2 decimals"), ("0", "adjustment of zero"), ("lots", "not an amount")],
)
def test_bad_adjustments_are_refused_clearly(actor, amount, message):
    customer = CustomerFactory()
    with pytest.raises(ValidationError, match=message):
        ledger_adjust(actor=actor, customer=customer, amount=amount, reason="Because")
    assert (
        not LedgerEntry.objects.exists()
        and not Event.objects.filter(action="balance_adjusted").exists()
    )


def test_only_roles_that_may_adjust_do(staff, admin_user):
    customer = CustomerFactory()
    with pytest.raises(PermissionDenied):
        ledger_adjust(actor=Actor(user=staff), customer=customer, amount="5", reason="x")
    assert not LedgerEntry.objects.exists()
    ledger_adjust(actor=Actor(user=admin_user), customer=customer, amount="5", reason="x")
    finance = Role.objects.create(name="Finance")
    from django.contrib.auth.models import Permission

    finance.permissions.add(
        Permission.objects.get(codename="adjust_balance"),
        Permission.objects.get(codename="view_customer"),
        Permission.objects.get(codename="change_customer"),
    )
    clerk = user_with_role("Finance", username="fiona")
    ledger_adjust(actor=Actor(user=clerk), customer=customer, amount="1", reason="y")
    assert balance_of(customer) == D("6.00")


# --- the ledger page ---------------------------------------------------------


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_ledger_page_shows_entries_with_running_balances(owner, actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "45.00", description="Invoice 1001")
    post(actor, customer, Kind.PAYMENT, "-45.00", description="Bank transfer")
    response = login(owner).get(reverse("ledger:customer", args=[customer.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Invoice 1001" in html and "Bank transfer" in html
    assert "+£45.00" in html and "\u2212£45.00" in html
    assert 'data-testid="adjust-form"' in html


def test_the_ledger_page_of_5000_entries_is_a_few_queries(owner, system_actor):
    customer = CustomerFactory()
    ledger_post_many(
        actor=system_actor,
        postings=[
            Posting(customer_id=customer.pk, kind=Kind.INVOICE, amount=D("1.00"))
            for _ in range(5000)
        ],
    )
    client = login(owner)
    client.get(reverse("ledger:customer", args=[customer.pk]))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("ledger:customer", args=[customer.pk]) + "?page=100")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Page 100 of 100" in html and "£50.00" in html  # the oldest page: 1..50
    assert len(queries) <= 12


def test_adjusting_from_the_page(admin_user):
    customer = CustomerFactory()
    client = login(admin_user)
    url = reverse("ledger:adjust", args=[customer.pk])
    bad = client.post(url, {"amount": "5.555", "reason": "Typo"})
    assert bad.status_code == 400 and "at most 2 decimals" in bad.content.decode()
    no_reason = client.post(url, {"amount": "5.00", "reason": ""})
    assert no_reason.status_code == 400 and "Say why" in no_reason.content.decode()
    assert not LedgerEntry.objects.exists()
    ok = client.post(url, {"amount": "5.00", "reason": "Missed install fee"})
    assert ok.status_code == 302 and balance_of(customer) == D("5.00")


def test_staff_cannot_adjust_from_the_page(staff):
    customer = CustomerFactory()
    response = login(staff).post(
        reverse("ledger:adjust", args=[customer.pk]), {"amount": "5", "reason": "x"}
    )
    assert response.status_code == 403 and not LedgerEntry.objects.exists()
    page = login(staff).get(reverse("ledger:customer", args=[customer.pk]))
    assert page.status_code == 200 and 'data-testid="adjust-form"' not in page.content.decode()


# --- restricted staff on every surface ---------------------------------------


@pytest.fixture
def world(owner, staff):
    actor = Actor(user=owner)
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    south = GroupFactory(group_set=region, name="South")
    inside = CustomerFactory(name="Inside Ivy")
    outside = CustomerFactory(name="Outside Oscar")
    customer_services.customer_groups_set(actor=actor, customer=inside, groups=[north])
    customer_services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    post(actor, inside, Kind.INVOICE, "11.11", description="Inside invoice")
    post(actor, outside, Kind.INVOICE, "99.99", description="Outside invoice")
    staff.restricted_groups.set([north])
    return {"inside": inside, "outside": outside, "staff": User.objects.get(pk=staff.pk)}


def test_restricted_staff_see_only_their_customers_ledger_page(world):
    client = login(world["staff"])
    inside = client.get(reverse("ledger:customer", args=[world["inside"].pk]))
    assert inside.status_code == 200 and "Inside invoice" in inside.content.decode()
    outside = client.get(reverse("ledger:customer", args=[world["outside"].pk]))
    assert outside.status_code == 404


def test_restricted_staff_see_only_their_customers_ledger_in_the_api(world):
    from tests.conftest import token_client

    client = token_client(world["staff"])
    inside = client.get(f"/api/customers/{world['inside'].pk}/ledger/")
    assert inside.status_code == 200
    assert [row["amount"] for row in inside.json()["results"]] == ["11.11"]
    assert client.get(f"/api/customers/{world['outside'].pk}/ledger/").status_code == 404
    assert LedgerEntry.objects.restrict(world["staff"]).count() == 1
    assert Balance.objects.restrict(world["staff"]).count() == 1


def test_restricted_staff_see_no_balance_card_numbers_of_others(world):
    client = login(world["staff"])
    response = client.get(world["outside"].get_absolute_url())
    assert response.status_code == 404


# --- API ---------------------------------------------------------------------


def test_api_lists_entries_newest_first_with_running_balance(api, actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "45.00")
    post(actor, customer, Kind.PAYMENT, "-40.00")
    response = api["readonly"].get(f"/api/customers/{customer.pk}/ledger/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["kind"], r["amount"], r["running_balance"]) for r in rows] == [
        ("payment", "-40.00", "5.00"),
        ("invoice", "45.00", "45.00"),
    ]
    assert api["anon"].get(f"/api/customers/{customer.pk}/ledger/").status_code == 401
    assert api["owner"].get("/api/customers/999999/ledger/").status_code == 404


@pytest.mark.parametrize(
    ("role", "code"), [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403)]
)
def test_api_adjustment_by_role(api, role, code):
    customer = CustomerFactory()
    response = api[role].post(
        f"/api/customers/{customer.pk}/ledger/",
        {"amount": "-7.50", "reason": "Outage credit"},
        format="json",
    )
    assert response.status_code == code, response.content
    assert LedgerEntry.objects.count() == (1 if code == 201 else 0)
    if code == 201:
        assert response.json()["running_balance"] == "-7.50"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"amount": "7.505", "reason": "x"}, "amount", "at most 2 decimals"),
        ({"amount": "7.50", "reason": ""}, "reason", "Say why"),
        ({"amount": "abc", "reason": "x"}, "amount", "not an amount"),
    ],
)
def test_api_bad_adjustments(api, payload, field, message):
    customer = CustomerFactory()
    response = api["admin"].post(f"/api/customers/{customer.pk}/ledger/", payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not LedgerEntry.objects.exists()


def test_the_customer_api_shows_the_balance(api, actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "45.00")
    other = CustomerFactory()
    detail = api["staff"].get(f"/api/customers/{customer.pk}/")
    assert detail.json()["balance"] == "45.00"
    listing = api["staff"].get("/api/customers/").json()["results"]
    balances = {row["id"]: row["balance"] for row in listing}
    assert balances[customer.pk] == "45.00" and balances[other.pk] == "0.00"
    # Read-only: a client cannot set it.
    api["staff"].patch(f"/api/customers/{customer.pk}/", {"balance": "0"}, format="json")
    assert balance_of(customer) == D("45.00")


def test_the_overview_has_the_billing_card(owner, actor):
    customer = CustomerFactory()
    post(actor, customer, Kind.INVOICE, "45.00", description="Invoice 1001")
    html = login(owner).get(customer.get_absolute_url()).content.decode()
    assert 'id="card-billing"' in html and "Invoice 1001" in html
    assert "View all activities (1)" in html


def test_the_overview_cards_do_not_grow_with_the_ledger(owner, actor):
    """The billing and services cards read a fixed number of rows however many there are."""
    from patron.catalogue import services as catalogue
    from patron.subscriptions.services import customer_service_add

    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=actor, data={"code": "F", "name": "Fibre", "kind": "monthly", "price": D("45")}
    )
    customer = CustomerFactory()
    client = login(owner)

    def overview_queries():
        client.get(customer.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(customer.get_absolute_url()).status_code == 200
        return len(queries)

    customer_service_add(actor=actor, customer=customer, service=fibre)
    post(actor, customer, Kind.INVOICE, "45.00")
    few = overview_queries()
    for _ in range(10):
        customer_service_add(actor=actor, customer=customer, service=fibre)
        post(actor, customer, Kind.INVOICE, "45.00")
    assert overview_queries() == few


def test_a_set_based_posting_keeps_running_balances_and_balance_rows_exact(actor):
    from django.db import transaction

    from patron.ledger.services import balances_out_of_step, ledger_post_selected

    first, second, fresh = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ledger_post(
        actor=actor, customer=first, kind=Kind.ADJUSTMENT, amount=Decimal("0.10"), reason="opening"
    )
    ledger_post(actor=actor, customer=second, kind=Kind.PAYMENT, amount=Decimal("-0.20"))
    ids = ", ".join(str(c.pk) for c in (first, second, fresh))
    select = (
        "SELECT c.id AS customer_id, 0.20 AS amount, DATE '2026-12-01' AS effective_date, "
        "'Invoice' AS description, NULL AS source_id FROM customers_customer c "
        f"WHERE c.id IN ({ids})"
    )
    if connection.vendor == "sqlite":
        select = select.replace("DATE '2026-12-01'", "'2026-12-01'")
    with transaction.atomic():
        assert ledger_post_selected(actor=actor, kind=Kind.INVOICE, select_sql=select) == 3
    running = dict(
        LedgerEntry.objects.filter(kind=Kind.INVOICE).values_list("customer_id", "running_balance")
    )
    assert running == {
        first.pk: Decimal("0.30"),
        second.pk: Decimal("0.00"),
        fresh.pk: Decimal("0.20"),
    }
    assert balance_of(first) == Decimal("0.30") and balance_of(fresh) == Decimal("0.20")
    assert balances_out_of_step() == []


def test_a_set_based_posting_of_the_wrong_sign_posts_nothing(actor):
    from django.db import transaction

    from patron.ledger.services import ledger_post_selected

    customer = CustomerFactory()
    select = (
        "SELECT c.id AS customer_id, -5 AS amount, c.status_since AS effective_date, "
        "'x' AS description, NULL AS source_id FROM customers_customer c "
        f"WHERE c.id = {customer.pk}"
    )
    with pytest.raises(ValidationError, match="wrong sign"), transaction.atomic():
        ledger_post_selected(actor=actor, kind=Kind.INVOICE, select_sql=select)
    assert not LedgerEntry.objects.exists() and not Balance.objects.exclude(amount=0).exists()
