"""Every write to a customer or anything on it goes through these functions."""

from patron.customers.services.contacts import contact_create, contact_delete, contact_update
from patron.customers.services.groups import (
    customer_group_add,
    customer_group_add_by_name,
    customer_group_remove,
    customer_group_schedule,
    customer_group_schedule_cancel,
    customer_group_validity_set,
    customer_groups_set,
)
from patron.customers.services.profile import (
    customer_archive,
    customer_create,
    customer_restore,
    customer_update,
)
from patron.customers.services.status import (
    customer_status_change,
    customer_status_change_cancel,
    status_changes_apply_due,
    statuses_progress_due,
    statuses_progress_preview,
)
from patron.customers.services.tags import customer_tag_add, customer_tag_remove, customer_tags_set

__all__ = [
    "contact_create",
    "contact_delete",
    "contact_update",
    "customer_archive",
    "customer_create",
    "customer_group_add",
    "customer_group_add_by_name",
    "customer_group_remove",
    "customer_group_schedule",
    "customer_group_schedule_cancel",
    "customer_group_validity_set",
    "customer_groups_set",
    "customer_restore",
    "customer_status_change",
    "customer_status_change_cancel",
    "status_changes_apply_due",
    "statuses_progress_due",
    "statuses_progress_preview",
    "customer_tag_add",
    "customer_tag_remove",
    "customer_tags_set",
    "customer_update",
]
