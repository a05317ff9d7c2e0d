"""Template context shared by every page: the navigation the user may see."""

from django.urls import reverse


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    config = [
        ("Tags", "tags:list", "tags.view_tag"),
        ("Group sets", "groups:set_list", "groups.view_groupset"),
        ("Groups", "groups:list", "groups.view_group"),
        ("Statuses", "statuses:list", "statuses.view_status"),
        ("Classes", "classes:list", "classes.view_customerclass"),
        ("Departments", "departments:list", "departments.view_department"),
    ]
    admin = [
        ("Users", "accounts:user_list", "accounts.view_user"),
        ("Roles", "accounts:role_list", "accounts.view_role"),
    ]
    return {
        "nav_config": [
            (label, reverse(name)) for label, name, perm in config if user.has_perm(perm)
        ],
        "nav_admin": [(label, reverse(name)) for label, name, perm in admin if user.has_perm(perm)],
    }
