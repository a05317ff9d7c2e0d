from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "patron.catalogue"
    label = "catalogue"
    verbose_name = "Service catalogue"

    def ready(self):
        from patron.groups.services import delete_guards

        if group_used_by_services not in delete_guards:
            delete_guards.append(group_used_by_services)


def group_used_by_services(group) -> str | None:
    """ORG-8: a group a service is restricted to is kept (archived or renamed, not deleted)."""
    names = list(group.allowed_services.order_by("name").values_list("name", flat=True)[:3])
    if not names:
        return None
    listed = ", ".join(f"“{n}”" for n in names)
    return (
        f"“{group}” is an allowed group of the service{'s' if len(names) > 1 else ''} {listed}, "
        "so money records depend on it: archive or rename it instead of deleting it."
    )
