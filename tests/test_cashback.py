"""Cashback runs (BIL-5): absolute and relative, never below zero, comments, undo, frozen
dynamic groups, idempotent jobs, restricted staff; one customer's adjustment."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patron.cashback import services
from patron.cashback.models import CashbackRun
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import CustomerTag, GroupMembership
from patron.groups import services as group_services
from patron.groups.models import DynamicGroupSnapshot
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.ledger.models import Balance, Book, Kind, LedgerEntry
from patron.ledger.services import balance_of, balances_out_of_step, ledger_post
from patron.segments import services as segment_services
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory, TagFactory

pytestmark = pytest.mark.django_db

D = Decimal


def join(group, *customers):
    for customer in customers:
        GroupMembership.objects.create(
            customer=customer,
            group=group,
            group_set=group.group_set,
            exclusive=group.group_set.single_choice,
        )


def give(customer, amount):
    ledger_post(
        actor=Actor.system_actor("tests"),
        customer=customer,
        kind=Kind.CASHBACK_ACCRUAL,
        amount=D(amount),
        book=Book.CASHBACK,
        reason="start",
    )


def held(customer):
    return balance_of(customer, Book.CASHBACK)


@pytest.fixture
def promo(db):
    """A static group "Summer promo 2026" of four: Alice 0, Bob 3.00, Carol 10.00, Dan 2.50."""
    group_set = GroupSetFactory(name="Campaigns", single_choice=False)
    group = GroupFactory(name="Summer promo 2026", group_set=group_set)
    people = {
        name: CustomerFactory(name=f"{name} Example") for name in ("Alice", "Bob", "Carol", "Dan")
    }
    join(group, *people.values())
    give(people["Bob"], "3.00")
    give(people["Carol"], "10.00")
    give(people["Dan"], "2.50")
    outsider = CustomerFactory(name="Zed Outsider")
    return group, people, outsider


def run(actor, group, **data):
    job = services.cashback_enqueue(
        actor=actor, data={"group": group.pk, "comment": "Promo", **data}
    )
    return job_run(job.pk)


def undo(actor, job):
    run_row = CashbackRun.objects.get(job=job)
    return job_run(job_enqueue(actor=actor, kind=services.UNDO_KIND, params={"run": run_row.pk}).pk)


def test_relative_adds_the_amount_exactly_with_the_comment_and_actor(owner, promo):
    group, people, outsider = promo
    job = run(Actor(user=owner), group, mode="relative", amount="5.05", comment="Summer bonus")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert [held(people[n]) for n in ("Alice", "Bob", "Carol", "Dan")] == [
        D("5.05"),
        D("8.05"),
        D("15.05"),
        D("7.55"),
    ]
    assert held(outsider) == D("0.00")
    entries = LedgerEntry.objects.filter(book=Book.CASHBACK, kind=Kind.CASHBACK_ACCRUAL)
    entries = entries.exclude(reason="start")
    assert entries.count() == 4
    assert set(entries.values_list("reason", flat=True)) == {"Summer bonus"}
    assert set(entries.values_list("actor_label", flat=True)) == {owner.username} or set(
        entries.values_list("actor_user", flat=True)
    ) == {owner.pk}
    run_row = CashbackRun.objects.get(job=job)
    assert job.result_summary["batch"] == str(run_row.batch)
    assert set(entries.values_list("batch", flat=True)) == {run_row.batch}
    assert job.result_summary["changed"] == 4
    assert balances_out_of_step(Book.CASHBACK) == []


def test_absolute_sets_each_balance_and_leaves_those_already_there(owner, promo):
    group, people, _ = promo
    job = run(Actor(user=owner), group, mode="absolute", amount="10.00")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert {n: held(c) for n, c in people.items()} == {n: D("10.00") for n in people}
    entries = LedgerEntry.objects.filter(book=Book.CASHBACK, kind=Kind.CASHBACK_SET)
    # Carol already held 10.00: no entry for her.
    assert entries.count() == 3
    assert not entries.filter(customer=people["Carol"]).exists()
    assert entries.get(customer=people["Bob"]).amount == D("7.00")
    assert job.result_summary["unchanged"] == 1
    # Lower too: a set can take a balance down, never below zero.
    job = run(Actor(user=owner), group, mode="absolute", amount="1.25")
    assert {n: held(c) for n, c in people.items()} == {n: D("1.25") for n in people}
    assert entries.get(customer=people["Bob"], amount=D("-8.75"))


def test_withdrawal_below_zero_is_listed_in_the_preview_and_skipped_by_the_run(owner, promo):
    group, people, _ = promo
    actor = Actor(user=owner)
    data = {"group": group.pk, "mode": "relative", "amount": "-3.00", "comment": "Expired"}
    preview = services.cashback_preview(actor, services.cashback_params(actor, data, freeze=False))
    assert preview.matched == 4
    assert preview.will_change == 2  # Bob (3.00 → 0.00) and Carol
    assert preview.below_zero == 2  # Alice (0) and Dan (2.50)
    skipped = sorted(c.name for c, _ in preview.below_zero_sample)
    assert skipped == ["Alice Example", "Dan Example"]
    assert any("below zero" in message for _, message in preview.below_zero_sample)
    sample = {c.name: (before, after) for c, before, after in preview.sample}
    assert sample["Bob Example"] == ("£3.00", "£0.00")

    job = run(actor, group, mode="relative", amount="-3.00", comment="Expired")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert held(people["Bob"]) == D("0.00")
    assert held(people["Carol"]) == D("7.00")
    assert held(people["Dan"]) == D("2.50")
    assert held(people["Alice"]) == D("0.00")
    failures = {f.customer_id: f.message for f in job.failures.all()}
    assert set(failures) == {people["Alice"].pk, people["Dan"].pk}
    assert "holds £2.50" in failures[people["Dan"].pk]
    assert job.result_summary["failed"] == 2
    assert not Balance.objects.filter(book=Book.CASHBACK, amount__lt=0).exists()


def test_a_comment_is_required_and_amounts_are_exact(owner, promo):
    group, _, _ = promo
    actor = Actor(user=owner)
    with pytest.raises(ValidationError) as exc:
        services.cashback_enqueue(
            actor=actor, data={"group": group.pk, "mode": "relative", "amount": "5", "comment": " "}
        )
    assert "comment" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.cashback_params(
            actor, {"group": group.pk, "mode": "relative", "amount": "5.005", "comment": "x"}
        )
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.cashback_params(
            actor, {"group": group.pk, "mode": "absolute", "amount": "-1", "comment": "x"}
        )
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.cashback_params(
            actor, {"group": group.pk, "mode": "sideways", "amount": "1", "comment": "x"}
        )
    assert not Job.objects.exists()


def test_exact_decimal_totals_across_many_small_amounts(owner, promo):
    group, people, _ = promo
    actor = Actor(user=owner)
    for _ in range(10):
        run(actor, group, mode="relative", amount="0.10")
    assert held(people["Alice"]) == D("1.00")
    assert held(people["Dan"]) == D("3.50")
    assert balances_out_of_step(Book.CASHBACK) == []


def test_a_dynamic_group_is_frozen_when_the_job_is_started(owner, promo):
    _, people, outsider = promo
    actor = Actor(user=owner)
    vip = TagFactory(name="vip")
    CustomerTag.objects.create(customer=people["Alice"], tag=vip)
    segment = segment_services.segment_create(
        actor=actor, data={"name": "VIPs", "query": "tag:vip"}
    )
    group = group_services.group_create(
        actor=actor,
        data={
            "name": "VIP club",
            "group_set": GroupSetFactory(name="Interests", single_choice=False),
            "segment": segment,
        },
    )
    job = services.cashback_enqueue(
        actor=actor,
        data={"group": group.pk, "mode": "relative", "amount": "1.00", "comment": "VIP"},
    )
    snapshot = DynamicGroupSnapshot.objects.get(group=group)
    assert snapshot.customer_ids == [people["Alice"].pk]
    assert job.params["snapshot"] == snapshot.pk
    # Someone starts matching after the job was started: not swept in.
    CustomerTag.objects.create(customer=outsider, tag=vip)
    job = job_run(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert held(people["Alice"]) == D("1.00")
    assert held(outsider) == D("0.00")


def test_undo_posts_the_reverse_and_skips_who_spent_it_since(owner, promo):
    group, people, _ = promo
    actor = Actor(user=owner)
    job = run(actor, group, mode="relative", amount="5.00")
    # Bob spends 7.00 of his 8.00 since.
    ledger_post(
        actor=actor,
        customer=people["Bob"],
        kind=Kind.CASHBACK_REDEMPTION,
        amount=D("-7.00"),
        book=Book.CASHBACK,
    )
    undone = undo(actor, job)
    assert undone.state == Job.State.SUCCEEDED, undone.error
    assert held(people["Alice"]) == D("0.00")
    assert held(people["Carol"]) == D("10.00")
    assert held(people["Dan"]) == D("2.50")
    assert held(people["Bob"]) == D("1.00")  # not reverted
    (failure,) = undone.failures.all()
    assert failure.customer_id == people["Bob"].pk
    assert "spent it since" in failure.message
    reverse = LedgerEntry.objects.filter(kind=Kind.CASHBACK_WITHDRAWAL)
    assert reverse.count() == 3
    assert all(r.reason.startswith("Undo of cashback run") for r in reverse)
    # Once only; an undo cannot be undone.
    again = job_run(
        job_enqueue(
            actor=actor,
            kind=services.UNDO_KIND,
            params={"run": CashbackRun.objects.get(job=job).pk},
        ).pk
    )
    assert again.state == Job.State.FAILED
    assert "already undone" in again.error
    assert balances_out_of_step(Book.CASHBACK) == []


def test_undo_of_an_absolute_run_puts_back_each_balance(owner, promo):
    group, people, _ = promo
    actor = Actor(user=owner)
    job = run(actor, group, mode="absolute", amount="4.00")
    assert undo(actor, job).state == Job.State.SUCCEEDED
    assert [held(people[n]) for n in ("Alice", "Bob", "Carol", "Dan")] == [
        D("0.00"),
        D("3.00"),
        D("10.00"),
        D("2.50"),
    ]


def test_a_job_run_twice_applies_once(owner, promo):
    group, people, _ = promo
    actor = Actor(user=owner)
    job = run(actor, group, mode="relative", amount="5.00")
    count = LedgerEntry.objects.count()
    # A duplicate delivery of a finished job does nothing.
    assert job_run(job.pk).state == Job.State.SUCCEEDED
    # And the run itself, called again for the same job (a resumed attempt), posts nothing.
    params = services.cashback_params(actor, job.params)
    summary = services.cashback_run(actor=actor, params=params, job=job)
    assert "nothing was posted again" in summary["message"]
    assert LedgerEntry.objects.count() == count
    assert held(people["Alice"]) == D("5.00")


def test_same_idempotency_key_returns_the_first_job_and_a_different_body_is_refused(owner, promo):
    group, _, _ = promo
    actor = Actor(user=owner)
    data = {"group": group.pk, "mode": "relative", "amount": "5.00", "comment": "Once"}
    first = services.cashback_enqueue(actor=actor, data=data, idempotency_key="k-1")
    assert services.cashback_enqueue(actor=actor, data=dict(data), idempotency_key="k-1") == first
    with pytest.raises(services.IdempotencyConflict):
        services.cashback_enqueue(
            actor=actor, data={**data, "amount": "6.00"}, idempotency_key="k-1"
        )
    assert Job.objects.count() == 1


def test_the_run_is_set_based(owner, db):
    group_set = GroupSetFactory(name="Campaigns", single_choice=False)
    counts = []
    for size in (3, 30):
        group = GroupFactory(name=f"Promo {size}", group_set=group_set)
        customers = [CustomerFactory() for _ in range(size)]
        join(group, *customers)
        for customer in customers[::2]:
            give(customer, "1.00")
        params = services.cashback_params(
            Actor(user=owner),
            {"group": group.pk, "mode": "relative", "amount": "-1.00", "comment": "x"},
        )
        with CaptureQueriesContext(connection) as queries:
            services.cashback_run(actor=Actor(user=owner), params=params)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- who may -----------------------------------------------------------------------------


def test_only_roles_with_run_cashback_may(staff, readonly, admin_user, promo):
    group, _, _ = promo
    data = {"group": group.pk, "mode": "relative", "amount": "5.00", "comment": "x"}
    for user in (staff, readonly):
        with pytest.raises(PermissionDenied):
            services.cashback_enqueue(actor=Actor(user=user), data=data)
    assert admin_user.has_perm("cashback.run_cashback")
    assert services.cashback_enqueue(actor=Actor(user=admin_user), data=data)


@pytest.fixture
def restricted_admin(admin_user, promo):
    """Adam, an Administrator restricted to the group "North" (Alice and Bob only)."""
    _, people, _ = promo
    north = GroupFactory(name="North", group_set=GroupSetFactory(name="Regions"))
    join(north, people["Alice"], people["Bob"])
    admin_user.restricted_groups.set([north])
    admin_user.refresh_from_db()
    return admin_user


def test_restricted_user_acts_only_on_their_groups_and_the_preview_counts_the_rest(
    restricted_admin, promo
):
    group, people, _ = promo
    actor = Actor(user=restricted_admin)
    data = {"group": group.pk, "mode": "relative", "amount": "2.00", "comment": "North only"}
    preview = services.cashback_preview(actor, services.cashback_params(actor, data, freeze=False))
    assert preview.matched == 2
    assert preview.left_out == 2
    job = job_run(services.cashback_enqueue(actor=actor, data=data).pk)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert held(people["Alice"]) == D("2.00")
    assert held(people["Bob"]) == D("5.00")
    assert held(people["Carol"]) == D("10.00")
    assert held(people["Dan"]) == D("2.50")


def test_restricted_user_naming_a_customer_outside_their_groups_is_refused(restricted_admin, promo):
    _, people, _ = promo
    actor = Actor(user=restricted_admin)
    # A selection naming Carol: she is not among the customers they may change.
    data = {
        "ids": [people["Carol"].pk, people["Alice"].pk],
        "mode": "relative",
        "amount": "1.00",
        "comment": "x",
    }
    params = services.cashback_params(actor, data)
    preview = services.cashback_preview(actor, params)
    assert preview.matched == 1
    assert preview.left_out == 1
    services.cashback_run(actor=actor, params=params)
    assert held(people["Carol"]) == D("10.00")
    assert held(people["Alice"]) == D("1.00")
    with pytest.raises(PermissionDenied):
        services.cashback_adjust(
            actor=actor,
            customer=people["Carol"],
            data={"mode": "relative", "amount": "1.00", "comment": "x"},
        )
    assert held(people["Carol"]) == D("10.00")


def test_a_segment_target_and_ledger_post_selected_refuses_outside_reach(restricted_admin, promo):
    """The set-based posting itself refuses a restricted actor's SELECT that reaches further."""
    from django.db import transaction

    from patron.ledger.services import ledger_post_selected

    _, people, _ = promo
    actor = Actor(user=restricted_admin)
    select = (
        "SELECT id AS customer_id, 1 AS amount, CURRENT_DATE AS effective_date, "
        "'x' AS description, NULL AS source_id FROM customers_customer "
        f"WHERE id = {people['Carol'].pk}"
    )
    with pytest.raises(PermissionDenied), transaction.atomic():
        ledger_post_selected(
            actor=actor, kind=Kind.CASHBACK_ACCRUAL, select_sql=select, book=Book.CASHBACK
        )
    assert held(people["Carol"]) == D("10.00")


# --- one customer ------------------------------------------------------------------------


def test_one_customer_adjustment(owner, promo):
    _, people, _ = promo
    actor = Actor(user=owner)
    bob = people["Bob"]
    entry = services.cashback_adjust(
        actor=actor, customer=bob, data={"mode": "absolute", "amount": "12.34", "comment": "Fix"}
    )
    assert entry.kind == Kind.CASHBACK_SET and entry.amount == D("9.34")
    assert entry.reason == "Fix"
    assert held(bob) == D("12.34")
    with pytest.raises(ValidationError):
        services.cashback_adjust(
            actor=actor, customer=bob, data={"mode": "relative", "amount": "-20", "comment": "x"}
        )
    with pytest.raises(ValidationError):
        services.cashback_adjust(
            actor=actor, customer=bob, data={"mode": "absolute", "amount": "12.34", "comment": "x"}
        )
    assert held(bob) == D("12.34")


def test_the_segment_term_reads_the_cashback_book(owner, promo):
    from patron.segments.language import segment_queryset

    group, people, _ = promo
    run(Actor(user=owner), group, mode="relative", amount="5.00")
    names = sorted(c.name for c in segment_queryset("cashback>7.9", user=owner))
    assert names == ["Bob Example", "Carol Example"]
    assert sorted(c.name for c in segment_queryset("cashback=5", user=owner)) == ["Alice Example"]


def test_a_group_used_by_a_cashback_run_cannot_be_deleted(owner, promo):
    group, _, _ = promo
    GroupMembership.objects.filter(group=group).delete()
    group.was_used = False
    group.save(update_fields=["was_used"])
    params = services.cashback_params(
        Actor(user=owner), {"ids": [1], "mode": "relative", "amount": "1", "comment": "x"}
    )
    services.cashback_run(actor=Actor(user=owner), params={**params, "group": group.pk})
    assert "cashback" in group_services.group_delete_refusal(group)


def test_a_job_that_dies_half_way_leaves_nothing_and_runs_again_once(owner, promo, monkeypatch):
    group, people, _ = promo
    actor = Actor(user=owner)
    job = services.cashback_enqueue(
        actor=actor,
        data={"group": group.pk, "mode": "relative", "amount": "5.00", "comment": "Crash"},
    )
    entries = LedgerEntry.objects.count()

    def boom(**kwargs):
        raise RuntimeError("worker lost")

    # The entries are posted, then the worker dies before the job finishes.
    monkeypatch.setattr(services.audit, "record", boom)
    assert job_run(job.pk).state == Job.State.FAILED
    assert LedgerEntry.objects.count() == entries
    assert not CashbackRun.objects.exists()
    assert held(people["Alice"]) == D("0.00")
    # Queued again (as the sweep does), it applies exactly once.
    monkeypatch.undo()
    Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, finished_at=None)
    assert job_run(job.pk).state == Job.State.SUCCEEDED
    assert held(people["Alice"]) == D("5.00")
    assert CashbackRun.objects.filter(job=job).count() == 1
