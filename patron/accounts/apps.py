from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "patron.accounts"
    label = "accounts"
    verbose_name = "People and access"

    def ready(self):
        from patron.accounts.roles import ensure_default_roles

        # Roles need every app's permissions, which exist only after migrate.
        post_migrate.connect(ensure_default_roles, sender=self, dispatch_uid="patron_default_roles")
