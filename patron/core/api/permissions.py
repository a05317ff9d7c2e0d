"""API permissions from the user's role."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Role permissions per model; reading needs the `view_` permission too."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        perms = getattr(view, "action_perms", {}).get(getattr(view, "action", None))
        if perms is not None:
            return all(request.user.has_perm(p) for p in perms)
        return super().has_permission(request, view)
