"""Fixed personas and test-wide settings."""

import pytest

from tests.factories import (
    CommsFactory,
    CustomerUserFactory,
    ManagerFactory,
    OrganizationFactory,
    StaffFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fast_and_deterministic(settings, tmp_path_factory):
    from django.core.cache import cache

    cache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        # Evidence written by tests never lands in the working tree.
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path_factory.mktemp("evidence"), "file_permissions_mode": 0o440},
        },
    }


@pytest.fixture(autouse=True)
def _force_login_passes_second_factor(monkeypatch):
    """Staff must pass a second factor; ``client.force_login`` does it for them (tests/mfa.py)."""
    from django.test import Client

    from tests.mfa import force_login_with_second_factor

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)


@pytest.fixture
def contoso(db):
    return OrganizationFactory(name="Contoso", slug="contoso")


@pytest.fixture
def fabrikam(db):
    return OrganizationFactory(name="Fabrikam", slug="fabrikam")


@pytest.fixture
def responder(db):
    return StaffFactory(username="responder")


@pytest.fixture
def other_responder(db):
    """A responder who is not a member of any case the tests create."""
    return StaffFactory(username="outsider-responder")


@pytest.fixture
def manager(db):
    return ManagerFactory(username="manager")


@pytest.fixture
def second_manager(db):
    return ManagerFactory(username="manager2")


@pytest.fixture
def comms(db):
    return CommsFactory(username="comms")


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def contoso_user(contoso):
    return CustomerUserFactory(username="customer-contoso", organization=contoso)


@pytest.fixture
def fabrikam_user(fabrikam):
    return CustomerUserFactory(username="customer-fabrikam", organization=fabrikam)
