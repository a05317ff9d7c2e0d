"""The timed operations: each through Patron's own code path, then as hand-written SQL.

Both sides run on the same scratch database in the same process. Reads are
timed as the median of a few runs after one warm-up; the bulk writes run
once each, the hand-written SQL inside a transaction that is rolled back so
both sides start from the same data.
"""

from __future__ import annotations

import csv
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings

from patron.accounts.models import ApiToken
from patron.core.actor import Actor
from patron.customers.models import Customer
from patron.imports.columns import COLUMN_NAMES
from patron.imports.services import customers_import_file
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.ops.bench import billing as bench_billing
from patron.ops.bench import cashback as bench_cashback
from patron.ops.bench import imports as bench_imports
from patron.ops.bench import payments as bench_payments
from patron.ops.bench.data import BenchData
from patron.ops.bench.load import MIX, measure
from patron.search import sql as search_sql
from patron.search.index import phone_digits
from patron.segments.language import quote_value, segment_queryset
from patron.statuses.models import Status
from patron.tags.models import Tag

REPEAT = 5


@dataclass
class Result:
    operation: str
    patron_ms: float | None
    sql_ms: float | None
    note: str = ""
    extra: dict = field(default_factory=dict)  # more keys for the JSON row

    @property
    def ratio(self) -> float | None:
        if self.patron_ms is None or not self.sql_ms:
            return None
        return round(self.patron_ms / self.sql_ms, 2)


class Rollback(Exception):
    """Raised to undo the hand-written side of a write benchmark."""


def timed(fn: Callable, repeat: int = REPEAT) -> float:
    """Median milliseconds of `repeat` calls after one warm-up call."""
    fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(runs), 2)


def once(fn: Callable) -> float:
    started = time.perf_counter()
    fn()
    return round((time.perf_counter() - started) * 1000, 2)


def once_rolled_back(fn: Callable) -> float:
    """Milliseconds of `fn` inside a transaction that is then rolled back.

    The rows' deferred constraint checks, which a commit would run, are run
    and timed too (`SET CONSTRAINTS ALL IMMEDIATE` on PostgreSQL; SQLite checks
    its foreign keys as each row is written), so the SQL side pays for the
    same checks as Patron's committed job.
    """
    elapsed = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            fn()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            elapsed = (time.perf_counter() - started) * 1000
            raise Rollback
    except Rollback:
        pass
    return round(elapsed, 2)


def rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def ids_sql(ids) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


@dataclass
class LoadOptions:
    """The `load` rows: `clients` threads for `seconds` against `patron serve --workers N`
    for each N of `workers` (default: this machine's cores, then 1). 0 seconds skips them."""

    clients: int = 20
    seconds: float = 10
    workers: list[int] | None = None

    def worker_counts(self) -> list[int]:
        if self.workers:
            return self.workers
        cores = os.cpu_count() or 1
        return [cores, 1] if cores > 1 else [1]


class Bench:
    """The operations over one loaded scratch database."""

    def __init__(self, data: BenchData, out=None, load: LoadOptions | None = None, only=None):
        self.data = data
        self.load_options = load or LoadOptions()
        self.only = set(only or ())
        self.out = out
        self.owner = data.owner
        self.client = Client()
        self.client.force_login(self.owner)
        self.active = data.statuses[1]
        self.tag, self.other_tag = data.tags[6], data.tags[8]
        self.north = next(g for g in data.regions if g.name == "North")
        self.north_ids = [self.north.pk, *(g.pk for g in data.regions[self.north])]
        self.results: list[Result] = []

    # --- helpers -----------------------------------------------------------------------

    def get(self, url: str, params: dict | None = None) -> bytes:
        with override_settings(ALLOWED_HOSTS=["*"]):
            response = self.client.get(url, params or {})
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} {params} answered {response.status_code}")
        return response.content

    def page_sql(self, where: str, count: bool = True, order: str = "c.id DESC") -> None:
        """What a list page needs, hand-written: count, one page, its tags and groups.

        Like the customer list: newest first, and a count that stops after 1,001
        matches (the list says "more than 1,000" past that).
        """
        if count:
            rows(
                "SELECT count(*) FROM (SELECT 1 FROM customers_customer c "
                f"WHERE {where} LIMIT 1001) s"
            )
        page = rows(
            "SELECT c.id, c.account_number, c.name, c.service_city, c.created, c.archived, "
            "s.name, s.display_class, cl.name FROM customers_customer c "
            "JOIN statuses_status s ON s.id = c.status_id "
            "LEFT JOIN classes_customerclass cl ON cl.id = c.customer_class_id "
            f"WHERE {where} ORDER BY {order} LIMIT 50"
        )
        ids = ids_sql(r[0] for r in page)
        rows(
            "SELECT ct.customer_id, t.id, t.name, t.colour FROM customers_customertag ct "
            f"JOIN tags_tag t ON t.id = ct.tag_id WHERE ct.customer_id IN ({ids})"
        )
        rows(
            "SELECT m.customer_id, g.id, g.name FROM customers_groupmembership m "
            f"JOIN groups_group g ON g.id = m.group_id WHERE m.customer_id IN ({ids})"
        )

    def filter_where(self) -> str:
        return (
            f"c.archived = false AND c.status_id = {self.active.pk} AND EXISTS (SELECT 1 FROM "
            "customers_customertag t WHERE t.customer_id = c.id "
            f"AND t.tag_id = {self.tag.pk})"
        )

    def search_where(self, text: str) -> str:
        table = search_sql.TABLE
        digits = phone_digits(text)
        if connection.vendor == "postgresql":
            quoted = text.replace("'", "''")
            match = f"SELECT customer_id FROM {table} WHERE text ILIKE '%{quoted}%'"
            if digits:
                match += f" OR phones LIKE '%{digits}%'"
        else:
            quoted = text.replace('"', '""').replace("'", "''")
            query = f'text : "{quoted}"' + (f' OR phones : "{digits}"' if digits else "")
            match = f"SELECT rowid FROM {table} WHERE {table} MATCH '{query}'"
        return f"c.archived = false AND c.id IN ({match})"

    def add(self, result: Result) -> None:
        """Keep the row and show it at once, so a long run shows its progress."""
        self.results.append(result)
        if self.out is not None:
            fmt = lambda v: "—" if v is None else f"{v:,.1f} ms"  # noqa: E731
            line = f"  {result.operation}: Patron {fmt(result.patron_ms)}, SQL {fmt(result.sql_ms)}"
            if result.ratio is not None:
                line += f", ratio {result.ratio}"
            self.out.write(line + "\n")
            self.out.flush()

    # --- the operations ----------------------------------------------------------------

    def segment_count(self) -> None:
        text = (
            f"tag:{quote_value(self.tag.name)} and group:North and "
            f"status:{quote_value(self.active.name)} and not tag:{quote_value(self.other_tag.name)}"
        )

        def patron():
            return segment_queryset(text, user=self.owner).count()

        where = (
            f"c.archived = false AND c.status_id = {self.active.pk} "
            "AND EXISTS (SELECT 1 FROM customers_customertag t WHERE t.customer_id = c.id "
            f"AND t.tag_id = {self.tag.pk}) "
            "AND EXISTS (SELECT 1 FROM customers_groupmembership m WHERE m.customer_id = c.id "
            f"AND m.group_id IN ({ids_sql(self.north_ids)})) "
            "AND NOT EXISTS (SELECT 1 FROM customers_customertag t WHERE t.customer_id = c.id "
            f"AND t.tag_id = {self.other_tag.pk})"
        )
        count = patron()
        expected = rows(f"SELECT count(*) FROM customers_customer c WHERE {where}")[0][0]
        if count != expected:
            raise RuntimeError(f"segment count {count} differs from SQL {expected}")
        self.add(
            Result(
                "segment count (4 terms)",
                timed(patron),
                timed(lambda: rows(f"SELECT count(*) FROM customers_customer c WHERE {where}")),
                f"{count} customers: {text}",
            )
        )

    def list_page(self) -> None:
        params = {"status": self.active.pk, "tag": self.tag.pk}
        self.add(
            Result(
                "customer list page (status + tag filter, HTML)",
                timed(lambda: self.get("/customers/", params)),
                timed(lambda: self.page_sql(self.filter_where())),
            )
        )

    def api_page(self) -> None:
        params = {"status": self.active.pk, "tag": self.tag.pk}
        self.add(
            Result(
                "API list page (status + tag filter)",
                timed(lambda: self.get("/api/customers/", params)),
                # The API pages with a cursor over the newest ids first, and counts nothing.
                timed(lambda: self.page_sql(self.filter_where(), count=False, order="c.id DESC")),
            )
        )

    def search(self) -> None:
        customer_id = self.data.customers // 2 + 1
        mobile = rows(
            f"SELECT mobile, name FROM customers_contact WHERE customer_id = {customer_id} "
            "AND is_primary = true"
        )[0]
        national = "0" + mobile[0][3:]  # +447… -> 07…
        fragment = f"{national[:5]} {national[5:8]}"
        for label, text in (("phone fragment", fragment), ("name", mobile[1])):
            body = self.get("/customers/", {"q": text})
            if mobile[1].encode() not in body:
                raise RuntimeError(f"search for {text!r} did not find customer {customer_id}")
            self.add(
                Result(
                    f"search by {label} (list page)",
                    timed(lambda text=text: self.get("/customers/", {"q": text})),
                    timed(lambda text=text: self.page_sql(self.search_where(text))),
                    f"q={text!r}",
                )
            )

            def queryset(text=text):
                found = Customer.objects.restrict(self.owner).filter(archived=False).search(text)
                found.order_by()[:1001].count()
                list(found.order_by("-id")[:50])

            self.add(
                Result(
                    f"search by {label} (queryset: count and first 50)",
                    timed(queryset),
                    timed(lambda text=text: self.page_sql(self.search_where(text))),
                    "Customer.objects.search() alone (count to 1,001, first 50 newest), "
                    "without the page around it",
                )
            )

    def overview(self) -> None:
        customer_id = self.data.customers // 3 + 1

        def sql():
            rows(
                "SELECT c.*, s.name, cl.name, d.name FROM customers_customer c "
                "JOIN statuses_status s ON s.id = c.status_id "
                "LEFT JOIN classes_customerclass cl ON cl.id = c.customer_class_id "
                "LEFT JOIN departments_department d ON d.id = c.department_id "
                f"WHERE c.id = {customer_id}"
            )
            rows(
                "SELECT t.* FROM tags_tag t JOIN customers_customertag ct ON ct.tag_id = t.id "
                f"WHERE ct.customer_id = {customer_id}"
            )
            rows(
                "SELECT g.*, gs.name FROM groups_group g "
                "JOIN customers_groupmembership m ON m.group_id = g.id "
                "JOIN groups_groupset gs ON gs.id = g.group_set_id "
                f"WHERE m.customer_id = {customer_id}"
            )
            rows(f"SELECT * FROM customers_contact WHERE customer_id = {customer_id}")
            rows(
                f"SELECT * FROM events_event WHERE customer_id = {customer_id} "
                "ORDER BY created DESC, id DESC LIMIT 20"
            )
            rows(
                f"SELECT * FROM customers_statuschange WHERE customer_id = {customer_id} "
                "ORDER BY effective_date DESC, id DESC LIMIT 20"
            )

        self.add(
            Result(
                "customer overview page",
                timed(lambda: self.get(f"/customers/{customer_id}/")),
                timed(sql),
            )
        )

    def _run_job(self, kind: str, params: dict):
        job = job_enqueue(actor=Actor(user=self.owner), kind=kind, params=params)
        job = job_run(job.pk) or Job.objects.get(pk=job.pk)
        if job.state != Job.State.SUCCEEDED:
            raise RuntimeError(f"job {kind} ended {job.state}: {job.error or job.result_summary}")
        return job

    def bulk_add_tag(self) -> None:
        cohort = self.data.cohort_a
        tag = Tag.objects.create(name="Bench bulk tag")
        kind = "customers.bulk_add_tag"
        params = {"tag": tag.pk, "target": {"filter": {"group": [str(cohort.pk)]}}}
        now = "now()" if connection.vendor == "postgresql" else "datetime('now')"
        insert = (
            "INSERT INTO customers_customertag (customer_id, tag_id, created) "
            f"SELECT m.customer_id, {tag.pk}, {now} FROM customers_groupmembership m "
            "JOIN customers_customer c ON c.id = m.customer_id "
            f"WHERE m.group_id = {cohort.pk} AND c.archived = false"
        )
        sql_ms = once_rolled_back(lambda: rows(insert + " RETURNING customer_id"))
        job = None
        patron_ms = once(lambda: setattr(self, "_job", self._run_job(kind, params)))
        job = self._job
        changed = (job.result_summary or {}).get("changed", "?")
        self.add(
            Result(
                f"bulk add tag ({changed} customers, events included)",
                patron_ms,
                sql_ms,
                f"job {kind}; SQL side is the INSERT alone",
            )
        )

    def bulk_status(self) -> None:
        kind = "customers.bulk_change_status"
        cohort = self.data.cohort_b
        status = next(
            s
            for s in Status.objects.filter(visible_in_backend=True, require_reason=False)
            .exclude(availability=Status.Availability.HISTORICAL)
            .exclude(pk=self.active.pk)
            .filter(require_date=False)
        )
        params = {
            "status": status.pk,
            "reason": "benchmark",
            "target": {"filter": {"group": [str(cohort.pk)]}},
        }
        today = "current_date" if connection.vendor == "postgresql" else "date('now')"
        now = "now()" if connection.vendor == "postgresql" else "datetime('now')"
        chosen = (
            f"SELECT m.customer_id FROM customers_groupmembership m WHERE m.group_id = {cohort.pk}"
        )

        def sql():
            rows(
                "INSERT INTO customers_statuschange (customer_id, from_status_id, to_status_id, "
                "reason, effective_date, state, changed_by_id, changed_by_label, applied_at, "
                "cancelled_by_label, note, created) "
                f"SELECT c.id, c.status_id, {status.pk}, 'benchmark', {today}, 'applied', "
                f"{self.owner.pk}, 'bench', {now}, '', '', {now} FROM customers_customer c "
                f"WHERE c.archived = false AND c.status_id <> {status.pk} AND c.id IN ({chosen}) "
                "RETURNING id"
            )
            rows(
                f"UPDATE customers_customer SET status_id = {status.pk}, status_since = {today}, "
                f"version = version + 1, modified = {now} WHERE archived = false "
                f"AND status_id <> {status.pk} AND id IN ({chosen}) RETURNING id"
            )

        sql_ms = once_rolled_back(sql)
        patron_ms = once(lambda: setattr(self, "_job", self._run_job(kind, params)))
        changed = (self._job.result_summary or {}).get("changed", "?")
        self.add(
            Result(
                f"bulk status change ({changed} customers, events included)",
                patron_ms,
                sql_ms,
                f"job {kind}; SQL side is the status history INSERT and the UPDATE",
            )
        )

    def csv_export(self) -> None:
        kind = "imports.export_customers"
        cohort = self.data.cohort_b
        params = {"format": "csv", "filter": {"group": [str(cohort.pk)]}}
        agg = "string_agg" if connection.vendor == "postgresql" else "group_concat"
        query = (
            "SELECT c.account_number, c.name, c.kind, s.name, c.service_street, c.service_city, "
            "c.service_postcode, c.service_country, c.notes, "
            f"(SELECT {agg}(t.name, ';') FROM customers_customertag ct "
            "JOIN tags_tag t ON t.id = ct.tag_id WHERE ct.customer_id = c.id), "
            f"(SELECT {agg}(g.name, ';') FROM customers_groupmembership m "
            "JOIN groups_group g ON g.id = m.group_id WHERE m.customer_id = c.id), "
            "k.name, k.email, k.phone, k.mobile, c.created "
            "FROM customers_customer c JOIN statuses_status s ON s.id = c.status_id "
            "LEFT JOIN customers_contact k ON k.customer_id = c.id AND k.is_primary = true "
            "WHERE c.archived = false AND c.id IN (SELECT customer_id FROM "
            f"customers_groupmembership WHERE group_id = {cohort.pk}) ORDER BY c.name, c.id"
        )

        def sql():
            target = Path(tempfile.gettempdir()) / f"patron-bench-export-{os.getpid()}.csv"
            with open(target, "w", newline="") as handle, connection.cursor() as cursor:
                writer = csv.writer(handle)
                cursor.execute(query)
                while batch := cursor.fetchmany(5000):
                    writer.writerows(batch)
            target.unlink()

        sql_ms = once(sql)
        patron_ms = once(lambda: setattr(self, "_job", self._run_job(kind, params)))
        exported = (self._job.result_summary or {}).get("rows", "?")
        self.add(
            Result(
                f"CSV export ({exported} customers)",
                patron_ms,
                sql_ms,
                f"job {kind}; SQL side is one SELECT written with the csv module",
            )
        )

    def import_file(self, rows_wanted: int) -> None:
        """Import a generated CSV of `rows_wanted` new customers through patron.imports."""
        leaves = [leaf.name for children in self.data.regions.values() for leaf in children]
        tags = [t.name for t in self.data.tags]
        path = Path(tempfile.gettempdir()) / f"patron-bench-import-{os.getpid()}.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMN_NAMES, extrasaction="ignore")
            writer.writeheader()
            for i in range(1, rows_wanted + 1):
                writer.writerow(
                    {
                        "account_number": f"I{i:08d}",
                        "name": f"Imported Customer {i}",
                        "status": self.active.name,
                        "street": f"{i % 180 + 1} Import Street",
                        "city": "Leeds",
                        "postcode": f"LS{i % 28 + 1} {i % 9 + 1}AB",
                        "tags": "; ".join(tags[(i * 31 + j * 41) % len(tags)] for j in range(5)),
                        "groups": leaves[(i * 13) % len(leaves)],
                        "contact_name": f"Imported Contact {i}",
                        "contact_email": f"imported{i}@example.net",
                        # 07911 000000 to 07911 299999 are valid UK mobiles; above is not.
                        "contact_mobile": f"+447911{i % 300000:06d}",
                    }
                )
        try:
            patron_ms = once(lambda: customers_import_file(actor=Actor(user=self.owner), path=path))
        finally:
            path.unlink(missing_ok=True)
        sql_ms = round(self.data.sql_seconds * 1000 * rows_wanted / self.data.customers, 1)
        self.add(
            Result(
                f"import CSV ({rows_wanted:,} customers with contact, 5 tags, 1 group)",
                patron_ms,
                sql_ms,
                "patron.imports customers_import_file (check and apply); SQL side is the "
                "loader's set-based INSERTs for as many customers",
            )
        )

    def load(self) -> None:
        """Concurrent clients over list, search, overview and API against `patron serve`."""
        options = self.load_options
        cookie = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        key = ApiToken.generate_key()
        token = ApiToken(user=self.owner, name="patron bench load")
        token.set_key(key)
        token.save()
        page = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
        api = {"Authorization": f"Token {key}", "Accept": "application/json"}
        name = Customer.objects.filter(pk=self.data.customers // 2 + 1).values_list(
            "name", flat=True
        )[0]
        step = max(1, self.data.customers // 7)
        requests = [
            (f"/customers/?status={self.active.pk}&tag={self.tag.pk}", page),
            (f"/customers/?q={name.replace(' ', '+')}", page),
            (f"/customers/{self.data.customers // 3 + 1}/", page),
            (f"/api/customers/?status={self.active.pk}", api),
            (f"/customers/?status={self.active.pk}&tag={self.other_tag.pk}", page),
            (f"/customers/{step * 2}/", page),
            (f"/api/customers/?tag={self.tag.pk}", api),
            (f"/customers/{step * 5}/", page),
        ]
        results = measure(
            requests, options.clients, options.seconds, options.worker_counts(), out=self.out
        )
        single = next((r for r in results if r.workers == 1), None)
        for result in results:
            note = result.summary()
            if single is not None and result is not single and single.per_second:
                note += f"; {result.per_second / single.per_second:.1f}× one web process"
            if result.first_error:
                note += f"; first error: {result.first_error[:200]}"
            self.results.append(
                Result(
                    f"{result.label} ({result.clients} clients, {result.seconds:g} s over {MIX})",
                    result.p50,
                    None,
                    note,
                    extra={
                        "workers": result.workers,
                        "clients": result.clients,
                        "seconds": result.seconds,
                        "requests": result.requests,
                        "requests_per_second": result.per_second,
                        "p50_ms": result.p50,
                        "p95_ms": result.p95,
                        "errors": result.errors,
                    },
                )
            )

    STEPS = ("segment", "list", "api", "search", "overview", "export", "bulk-tag")
    STEPS += ("bulk-status", "billing", "ledger", "balance-segment", "cashback")
    STEPS += ("group-payment", "api-payment", "import", "load")

    def run_all(self, import_rows: int) -> list[Result]:
        """Every operation; one that fails is reported as a row, not a crash."""
        steps = [
            ("segment", "segment count (4 terms)", self.segment_count),
            ("list", "customer list page", self.list_page),
            ("api", "API list page", self.api_page),
            ("search", "search", self.search),
            ("overview", "customer overview page", self.overview),
            ("export", "CSV export", self.csv_export),
            ("bulk-tag", "bulk add tag", self.bulk_add_tag),
            ("bulk-status", "bulk status change", self.bulk_status),
            (
                "billing",
                "billing run",
                lambda: bench_billing.run_billing(self, Result, once, once_rolled_back),
            ),
            ("ledger", "ledger page", lambda: bench_billing.ledger_page(self, Result, timed)),
            (
                "balance-segment",
                "segment count (balance>50 and status:Active)",
                lambda: bench_billing.balance_segment(self, Result, timed),
            ),
            (
                "cashback",
                "cashback relative +5",
                lambda: bench_cashback.cashback_relative(self, Result, once, once_rolled_back),
            ),
            # After the billing rows: it adds a payment group and its open invoices.
            (
                "group-payment",
                "group payment",
                lambda: bench_payments.group_payment(
                    self,
                    Result,
                    once_rolled_back,
                    members=min(bench_payments.GROUP_MEMBERS, max(1, self.data.customers // 3)),
                ),
            ),
            (
                "api-payment",
                "payment through the API",
                lambda: bench_payments.api_payment(self, Result, timed),
            ),
        ]
        if import_rows:
            steps.append(("import", "import CSV", lambda: self.import_file(import_rows)))
            for label, step in (
                ("import create or update", bench_imports.import_create_or_update),
                ("import update", bench_imports.import_update),
            ):
                steps.append(
                    ("import", label, lambda step=step: step(self, Result, once, import_rows))
                )
        if self.load_options.seconds > 0:
            steps.append(("load", "load", self.load))
        steps = [(label, step) for key, label, step in steps if not self.only or key in self.only]
        for label, step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - reported in the table instead
                message = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                self.add(Result(label, None, None, f"failed: {message}"))
        return self.results
