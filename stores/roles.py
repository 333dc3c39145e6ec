"""The back-office roles: operators change things, support staff only look."""

from django.contrib.auth.models import Group, Permission

OPERATOR_GROUP = "Operator"
SUPPORT_GROUP = "Support"

_APPS = ["stores", "partners", "clicks", "conversions"]


def ensure_roles() -> tuple[Group, Group]:
    """Create (or bring up to date) the Operator and Support groups with their permissions."""
    permissions = Permission.objects.filter(content_type__app_label__in=_APPS)
    operator, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    operator.permissions.set(permissions)
    support, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    support.permissions.set(permissions.filter(codename__startswith="view_"))
    return operator, support
