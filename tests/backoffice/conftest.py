import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from stores.roles import OPERATOR_GROUP, SUPPORT_GROUP, ensure_roles


def _staff_client(username: str, group_name: str) -> Client:
    operator, support = ensure_roles()
    group = operator if group_name == OPERATOR_GROUP else support
    user = get_user_model().objects.create_user(username=username, password="x", is_staff=True)
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(db) -> Client:
    """A logged-in member of the Operator group (not a superuser)."""
    return _staff_client("olivia", OPERATOR_GROUP)


@pytest.fixture
def support_client(db) -> Client:
    """A logged-in member of the Support group (not a superuser)."""
    return _staff_client("sam", SUPPORT_GROUP)
