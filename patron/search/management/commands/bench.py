"""`patron bench`: Patron's operations timed beside hand-written SQL on a scratch database."""

from django.core.management.base import BaseCommand, CommandError

from patron.search import bench


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
        parser.add_argument(bench.SCRATCH_FLAG, action="store_true", help="(internal)")

    def handle(self, *args, **options):
        customers = options["customers"]
        if customers < 100:
            raise CommandError("Give at least 100 customers (--customers 100).")
        if options["in_scratch_database"]:
            bench.run_in_scratch(
                customers, options["json"], out=self.stdout, import_rows=options["import_rows"] or 0
            )
            return
        try:
            bench.run(
                customers,
                json_path=options["json"],
                keep=options["keep"],
                out=self.stdout,
                import_rows=options["import_rows"],
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
