"""Authentication backend whose permissions come from the user's role."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    """Username/password sign-in; permissions are the role's permission set."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_role_perm_cache"):
            role = user_obj.role
            if role is None:
                perms = Permission.objects.none()
            elif role.is_owner:
                perms = Permission.objects.all()
            else:
                perms = role.permissions.all()
            user_obj._role_perm_cache = {
                f"{ct}.{name}"
                for ct, name in perms.values_list("content_type__app_label", "codename")
            }
        return user_obj._role_perm_cache

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return self.get_all_permissions(user_obj, obj)

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def get_user(self, user_id):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        try:
            user = User._default_manager.select_related("role").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
