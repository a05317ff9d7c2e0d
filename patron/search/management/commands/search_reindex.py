"""`patron manage search_reindex`: rebuild the customer search index in one pass."""

from django.core.management.base import BaseCommand

from patron.search.index import rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the customer search index from the customer and contact tables. Normal "
        "writes keep it current; use this after loading rows with the database triggers off."
    )

    def handle(self, *args, **options):
        count = rebuild()
        self.stdout.write(f"Indexed {count:,} customers.")
