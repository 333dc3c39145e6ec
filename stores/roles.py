"""The back-office roles: operators change things, support staff only look.

Django's model permissions carry every right of the back office, so no custom permission
(and no migration) is needed:

- approve or reject conversions: `conversions.change_conversion`; decide claims:
  `conversions.change_claim`
- issue a store or partner API token: `stores.add_storetoken`, `partners.add_partnertoken`;
  revoke one: `stores.change_storetoken`, `partners.change_partnertoken`
- onboard (programs, events, admissions): add/change on those models
- look at lists and pages, export conversions as CSV, the overview, the audit and each
  object's history: the `view_` permissions
"""

from django.contrib.auth.models import Group, Permission

OPERATOR_GROUP = "Operator"
SUPPORT_GROUP = "Support"

_APPS = ["stores", "partners", "clicks", "conversions", "jobs", "audit"]


def ensure_roles() -> tuple[Group, Group]:
    """Create (or bring up to date) the Operator and Support groups with their permissions."""
    permissions = Permission.objects.filter(content_type__app_label__in=_APPS)
    operator, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    operator.permissions.set(permissions)
    support, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    support.permissions.set(permissions.filter(codename__startswith="view_"))
    return operator, support
