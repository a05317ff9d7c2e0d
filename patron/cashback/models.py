"""Cashback runs: one row per run (or its undo), the source of the run's ledger entries.

The cashback balances themselves are the ledger's cashback book
(`patron.ledger`): a run posts one entry per member through
`ledger_post_selected`, all sharing `batch`, with the run as their source
and its comment as their reason. The row records what was asked (mode,
amount, comment, group), the job that carried it out (one run per job, so a
job run twice applies once) and what it did. One customer's adjustment
through the API is a run of one, holding the request's `Idempotency-Key`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from patron.core.models import RestrictedQuerySet
from patron.core.money import format_money, money_field


class Mode(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute (set each balance to the amount)"
    RELATIVE = "relative", "Relative (add the amount; negative withdraws)"


class CashbackRun(models.Model):
    mode = models.CharField(max_length=10, choices=Mode.choices)
    amount = money_field()
    comment = models.TextField()
    group = models.ForeignKey(
        "groups.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="cashback_run"
    )
    undo_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    # One customer's adjustment (not a job): the customer, and the request's key and body.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    request = models.JSONField(default=dict, blank=True)
    batch = models.UUIDField(unique=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    entries = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        default_permissions = ("view",)
        permissions = [("run_cashback", "Can run cashback")]

    def __str__(self):
        if self.undo_of_id:
            return f"Undo of cashback run #{self.undo_of_id}"
        sign = self.mode == Mode.RELATIVE
        return f"Cashback {self.mode} {format_money(self.amount, signed=sign)}"
