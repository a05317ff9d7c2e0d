from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "patron.search"
    label = "search"
    verbose_name = "Customer search"

    def ready(self):
        from django.db.backends.signals import connection_created

        from patron.search.index import register_sqlite_functions

        # The SQLite index triggers call patron_fold() (patron/search/sql.py).
        connection_created.connect(register_sqlite_functions, dispatch_uid="patron_fold")
