"""Background jobs: every long action is a row the UI shows while it runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from patron.core.models import RestrictedQuerySet
from patron.jobs.registry import job_label


class JobQuerySet(RestrictedQuerySet):
    """Everyone sees and cancels their own jobs; `jobs.view_job` / `jobs.change_job` give all.

    Unlike most models no permission is needed to see one's own rows: a
    person who may start a bulk action may always watch it run.
    """

    owner_field = "actor_user"

    def permission(self, action: str) -> str:
        return "jobs.view_job" if action == "view" else "jobs.change_job"


class JobFailureQuerySet(models.QuerySet):
    def visible_to(self, user) -> JobFailureQuerySet:
        """Failures name customers: a restricted viewer sees only failures about their own
        customers (and those about no customer)."""
        if not user.has_customer_restriction:
            return self
        # jobs sit below customers (imports and bulk build on both): asked only here.
        from patron.customers.models import Customer

        visible = Customer.objects.restrict(user).values("pk")
        return self.filter(Q(customer__isnull=True) | Q(customer__in=visible))


class Job(models.Model):
    """One run of a registered job type: who asked, with what, and how it went.

    The row is the job's whole record: parameters, state, progress, the
    summary it returned and the customers it could not act on. `claim` names
    the attempt currently allowed to finish it, so a job taken over from a
    stopped worker can never be completed twice.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    UNFINISHED = (State.QUEUED, State.RUNNING)

    kind = models.CharField(max_length=100, db_index=True)
    actor_kind = models.CharField(max_length=10, default="system")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token = models.ForeignKey(
        "accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    result_summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    claim = models.CharField(max_length=64, blank=True, editable=False)
    worker = models.CharField(max_length=200, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    # When it last went into the queue: created, handed back, or queued again by the sweep.
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "id"], name="job_state_id"),
            models.Index(fields=["actor_user", "-id"], name="job_actor_recent"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.label}"

    def get_absolute_url(self):
        return reverse("jobs:detail", args=[self.pk])

    @property
    def label(self) -> str:
        return job_label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.state not in self.UNFINISHED

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def message(self) -> str:
        return str((self.result_summary or {}).get("message", ""))


class JobFailure(models.Model):
    """A customer (or an input line) a job could not act on, and why."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="failures")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_label = models.CharField(max_length=250, blank=True)
    message = models.CharField(max_length=500)

    objects = JobFailureQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.customer_label or 'Job'}: {self.message}"


class JobChange(models.Model):
    """One value a bulk action changed on one customer, kept so the job can be undone.

    `field` is the name the event log uses for it ("tags", "status",
    "department" …). `before` and `after` are the stored values as text (an
    id, a date, a timestamp), or NULL for "none": for tags and groups, NULL
    means the customer did not have the tag or group. Rows are written with
    one INSERT … SELECT per job, never one by one.
    """

    # Written only by the bulk statements, from rows they have just read, up to
    # hundreds of thousands in one transaction: no database constraints on the
    # links (each would cost a lookup per row at commit); Django still cascades.
    job = models.ForeignKey(
        Job, on_delete=models.CASCADE, related_name="changes", db_constraint=False, db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    field = models.CharField(max_length=40)
    before = models.CharField(max_length=100, null=True, blank=True)
    after = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "field", "customer"], name="jobchange_job_field_customer"
            )
        ]
        indexes = [models.Index(fields=["customer", "job"], name="jobchange_customer_job")]

    def __str__(self):
        return f"#{self.job_id} {self.customer_id}.{self.field}: {self.before} → {self.after}"
