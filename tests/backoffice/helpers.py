"""Helpers shared by the back-office tests."""


def listed(response) -> list:
    """The objects on a changelist page, in the order shown."""
    assert response.status_code == 200
    return list(response.context["cl"].result_list)
