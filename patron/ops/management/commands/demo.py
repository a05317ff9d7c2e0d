"""`patron demo`: load the demo data (a small UK broadband provider)."""

from django.core.management.base import BaseCommand, CommandError

from patron.customers.models import Customer
from patron.ops.demo import DEMO_CUSTOMERS, DEMO_SEED, DemoRefused, load_demo


class Command(BaseCommand):
    help = (
        "Load realistic demo data (customers, contacts, tags, groups, classes, departments, "
        "demo staff users) through the service functions, so the event log is real."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the demo customers even though the database already holds customers.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only into a database without customers; otherwise say so and succeed.",
        )
        parser.add_argument(
            "--customers", type=int, default=DEMO_CUSTOMERS, help="How many customers to create."
        )
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Random seed.")

    def handle(self, *args, force=False, if_empty=False, customers=DEMO_CUSTOMERS, seed=0, **opts):
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        existing = Customer.objects.count()
        if existing and if_empty and not force:
            self.stdout.write(
                f"Demo data not loaded: the database already holds {existing} customer(s)."
            )
            return
        if existing and not force:
            raise CommandError(
                f"The database already holds {existing} customer(s), so the demo data was not "
                "loaded. Use --force to add the demo customers anyway."
            )
        self.stdout.write(f"Loading demo data ({customers} customers)...")
        try:
            summary = load_demo(customers=customers, seed=seed, force=force)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
