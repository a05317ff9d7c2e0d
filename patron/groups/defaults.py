"""The group set a fresh Patron installation starts with.

Read by the data migration that creates it (`migrations/0002_default_group_set.py`)
and by `patron.ops.defaults.ensure_defaults()`, which puts it back in an emptied
database. Plain values only: a migration imports this module.
"""

DEFAULT_GROUP_SET = {
    "name": "Customer group",
    "description": "The main grouping of customers; each customer is in at most one.",
    "single_choice": True,
    "position": 10,
}
