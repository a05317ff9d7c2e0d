"""Template context shared by every page: the navigation the user may see."""

from django.urls import reverse

CONFIGURATION = [
    ("Tags", "tags:list", "tags.view_tag"),
    ("Group sets", "groups:set_list", "groups.view_groupset"),
    ("Groups", "groups:list", "groups.view_group"),
    ("Statuses", "statuses:list", "statuses.view_status"),
    ("Classes", "classes:list", "classes.view_customerclass"),
    ("Departments", "departments:list", "departments.view_department"),
]
ADMINISTRATION = [
    ("Users", "accounts:user_list", "accounts.view_user"),
    ("Roles", "accounts:role_list", "accounts.view_role"),
]


def _entries(request, items):
    """(label, url, active) for the entries the user may open; the longest
    URL that prefixes the current path is the active one."""
    user = request.user
    entries = [(label, reverse(name)) for label, name, perm in items if user.has_perm(perm)]
    matching = [url for _, url in entries if request.path.startswith(url)]
    current = max(matching, key=len) if matching else None
    return [(label, url, url == current) for label, url in entries]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_config": _entries(request, CONFIGURATION),
        "nav_admin": _entries(request, ADMINISTRATION),
    }
