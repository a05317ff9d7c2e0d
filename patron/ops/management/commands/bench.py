"""`patron bench`: Patron's operations timed beside hand-written SQL on a scratch database."""

from django.core.management.base import BaseCommand, CommandError

from patron.ops import bench
from patron.ops.bench.operations import Bench, LoadOptions


class Command(BaseCommand):
    help = (
        "Build a scratch database of N customers (never your own data), time Patron's list, "
        "search, segment, bulk and page operations beside the equivalent SQL, print a table "
        "and optionally write it as JSON."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers", type=int, default=1_000_000, help="How many customers (default 1000000)."
        )
        parser.add_argument("--json", metavar="PATH", help="Also write the rows as JSON here.")
        parser.add_argument(
            "--keep", action="store_true", help="Keep the scratch database afterwards."
        )
        parser.add_argument(
            "--import-rows",
            type=int,
            default=None,
            help="Customers in the imported CSV file (default: as many as --customers; 0 skips).",
        )
        parser.add_argument(
            "--load-clients",
            type=int,
            default=20,
            help="Concurrent clients of the load rows (default 20).",
        )
        parser.add_argument(
            "--load-seconds",
            type=float,
            default=10,
            help="How long each load row runs (default 10; 0 skips the load rows).",
        )
        parser.add_argument(
            "--load-workers",
            help="Web processes of the load rows, e.g. 4,1 (default: the cores, then 1).",
        )
        parser.add_argument(
            "--only",
            help="Run only these operations (comma-separated): " + ", ".join(Bench.STEPS) + ".",
        )
        parser.add_argument(bench.SCRATCH_FLAG, action="store_true", help="(internal)")

    def handle(self, *args, **options):
        customers = options["customers"]
        if customers < 100:
            raise CommandError("Give at least 100 customers (--customers 100).")
        load = self._load_options(options)
        only = [name.strip() for name in (options["only"] or "").split(",") if name.strip()]
        unknown = sorted(set(only) - set(Bench.STEPS))
        if unknown:
            raise CommandError(
                f"Unknown operation {', '.join(unknown)}; choose from {', '.join(Bench.STEPS)}."
            )
        if options["in_scratch_database"]:
            bench.run_in_scratch(
                customers,
                options["json"],
                out=self.stdout,
                import_rows=options["import_rows"] or 0,
                load_options=load,
                only=only,
            )
            return
        try:
            bench.run(
                customers,
                json_path=options["json"],
                keep=options["keep"],
                out=self.stdout,
                import_rows=options["import_rows"],
                load=load,
                only=only,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc

    def _load_options(self, options) -> LoadOptions:
        if options["load_clients"] < 1 or options["load_seconds"] < 0:
            raise CommandError("Give --load-clients 1 or more and --load-seconds 0 or more.")
        workers = None
        if options["load_workers"]:
            try:
                workers = [int(n) for n in options["load_workers"].split(",")]
            except ValueError:
                workers = [0]
            if min(workers) < 1:
                raise CommandError("Give --load-workers as numbers of web processes, e.g. 2,1.")
        return LoadOptions(options["load_clients"], options["load_seconds"], workers)
