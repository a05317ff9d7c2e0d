"""The statuses a fresh Patron installation starts with.

The data migration that creates them (`migrations/0002_default_statuses.py`)
and `patron.ops.defaults.ensure_defaults()`, which puts them back in an
emptied database (tests, the benchmark's scratch database), both read these
values, so there is one list of what a new installation holds. Plain values
only: a migration imports this module, so it must not import any models.
"""

DEFAULT_STATUSES = [
    {
        "name": "Prospect",
        "short_name": "PROS",
        "availability": "standard",
        "display_class": "info",
        "position": 10,
        "crm_only": True,
        "billable": False,
        "portal_login": False,
        "send_correspondence": True,
        "can_have_calls": False,
        "can_have_fixed_charges": False,
        "process_automatic_payments": False,
    },
    {
        "name": "Active",
        "short_name": "ACT",
        "availability": "headline",
        "display_class": "success",
        "position": 20,
    },
    {
        "name": "Suspended",
        "short_name": "SUSP",
        "availability": "headline",
        "display_class": "warning",
        "position": 30,
        "is_suspended": True,
        "can_have_calls": False,
        "process_automatic_payments": False,
        "require_reason": True,
    },
    {
        "name": "Ceased",
        "short_name": "CEAS",
        "availability": "standard",
        "display_class": "danger",
        "position": 40,
        "is_active": False,
        "portal_login": False,
        "can_have_calls": False,
        "can_have_fixed_charges": False,
        "final_invoice": True,
        "require_reason": True,
        "require_date": True,
    },
    {
        "name": "Ex-Customer",
        "short_name": "EX",
        "availability": "historical",
        "display_class": "secondary",
        "position": 50,
        "is_active": False,
        "billable": False,
        "send_correspondence": False,
        "portal_login": False,
        "can_have_calls": False,
        "can_have_fixed_charges": False,
        "process_automatic_payments": False,
    },
]

# (status, the status it moves on to, after how many days): a suspended account
# that nobody reinstates is ceased after 30 days.
DEFAULT_NEXT_STATUSES = [("Suspended", "Ceased", 30)]
