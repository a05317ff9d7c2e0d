"""Template context shared by every page: the navigation the user may see, and
whose customers a group-restricted user sees."""

from django.urls import reverse

# (label, URL name, the permission the page needs); every entry names the
# permission its view checks, so a role sees only what it can open. None: a
# page every signed-in user may open (their own jobs and API tokens).
WORK = [
    ("Home", "home", None),
    ("Customers", "customers:list", "customers.view_customer"),
    ("Segments", "segments:list", "segments.view_segment"),
    ("My work", "tickets:my_work", "tickets.view_ticket"),
    ("Department queues", "tickets:queue_index", "tickets.view_ticket"),
    ("Tickets", "tickets:list", "tickets.view_ticket"),
    ("Calls", "calls:list", "calls.view_calllog"),
    ("Billing", "billing:runs", "billing.view_billingrun"),
    ("Payments", "payments:list", "payments.view_payment"),
    ("Jobs", "jobs:list", None),
    ("Import customers", "imports:upload", "customers.add_customer"),
    ("Phone list → group", "imports:phone_list", "customers.change_customer"),
    ("Event log", "events:list", "events.view_event"),
]
CONFIGURATION = [
    ("Tags", "tags:list", "tags.view_tag"),
    ("Group sets", "groups:set_list", "groups.view_groupset"),
    ("Groups", "groups:list", "groups.view_group"),
    ("Statuses", "statuses:list", "statuses.view_status"),
    ("Classes", "classes:list", "classes.view_customerclass"),
    ("Departments", "departments:list", "departments.view_department"),
    ("Custom fields", "customfields:list", "customfields.view_customfield"),
    ("Alert banners", "banners:list", "banners.view_bannerrule"),
    ("Service catalogue", "catalogue:service_list", "catalogue.view_service"),
    ("Tax rates", "catalogue:taxrate_list", "catalogue.view_taxrate"),
    ("Inventory types", "catalogue:inventorytype_list", "catalogue.view_inventorytype"),
    ("Payment methods", "payments:methods", "payments.view_paymentmethod"),
]
ADMINISTRATION = [
    ("Users", "accounts:user_list", "accounts.view_user"),
    ("Roles", "accounts:role_list", "accounts.view_role"),
]
API = [
    ("API tokens", "accounts:token_list", None),
    ("API docs", "api-docs", None),
]


def _entries(request, items):
    """(label, url, active) for the entries the user may open; the longest
    URL that prefixes the current path is the active one."""
    user = request.user
    entries = [
        (label, reverse(name)) for label, name, perm in items if perm is None or user.has_perm(perm)
    ]
    matching = [url for _, url in entries if request.path.startswith(url)]
    current = max(matching, key=len) if matching else None
    return [(label, url, url == current) for label, url in entries]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_work": _entries(request, WORK),
        "nav_config": _entries(request, CONFIGURATION),
        "nav_admin": _entries(request, ADMINISTRATION),
        "nav_api": _entries(request, API),
        "can_search_customers": user.has_perm("customers.view_customer"),
        # "You see customers in North, South": a restricted user knows why some are missing.
        "restricted_group_names": (
            list(user.restricted_groups.order_by("name").values_list("name", flat=True))
            if user.has_customer_restriction
            else []
        ),
    }
