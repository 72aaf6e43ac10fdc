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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the transactional tests that restore the migrated data (``serialized_rollback``) before the other transactional ones.

    pytest-django runs the tests in transactions first, then the transactional ones, in file order. A
    plain transactional test's flush re-creates the teams through ``post_migrate`` under new ids, on
    which a later test's restore of the serialized data then fails ("Responders already exists"). A
    serialized test's own flush leaves the database empty, which the plain ones fill as they need.
    """

    from django.test import TestCase, TransactionTestCase

    def group(item) -> int:
        cls = getattr(item, "cls", None)
        if cls is not None and issubclass(cls, TransactionTestCase):
            return 0 if issubclass(cls, TestCase) else 1 if cls.serialized_rollback else 2
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or (
            "transactional_db" in fixtures or "live_server" in fixtures)
        if transactional:
            return 1 if marker and marker.kwargs.get("serialized_rollback") else 2
        return 0 if marker or "db" in fixtures else 3

    items.sort(key=group)


@pytest.fixture(autouse=True)
def _fast_and_deterministic(settings, tmp_path_factory):
    from django.core.cache import cache

    from cases.services.api_tokens import forget_verified_tokens

    cache.clear()
    # A token one test verified must not be trusted in the next, whose database no longer has it.
    forget_verified_tokens()
    # Test transactions roll back, so their notifications never arrive: kept reads are tested on their own
    # (tests/cases/access/test_signed_in_memo.py, tests/irt/test_public_page_memo.py, tests/irt/test_near_cache.py, tests/irt/test_watched_reads.py).
    settings.IRT_SIGNED_IN_MEMO = False
    settings.IRT_PUBLIC_PAGE_MEMO = False
    settings.IRT_NEAR_CACHE = False
    settings.IRT_WATCHED_READS = False
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


def persona(factory, **fields):
    """Return a fixture that builds one fixed persona: ``responder = persona(StaffFactory, username="responder")``."""

    @pytest.fixture
    def build(db):
        return factory(**fields)

    return build


def organization_and_customer(name: str, slug: str):
    """Return the fixtures for one customer organisation and its one portal user, ``customer-<slug>``."""

    @pytest.fixture
    def organization(db):
        return OrganizationFactory(name=name, slug=slug)

    @pytest.fixture
    def customer(request):
        return CustomerUserFactory(username=f"customer-{slug}", organization=request.getfixturevalue(slug))

    return organization, customer


contoso, contoso_user = organization_and_customer("Contoso", "contoso")
fabrikam, fabrikam_user = organization_and_customer("Fabrikam", "fabrikam")
responder = persona(StaffFactory, username="responder")
other_responder = persona(StaffFactory, username="outsider-responder")  # a member of no case the tests create
manager = persona(ManagerFactory, username="manager")
second_manager = persona(ManagerFactory, username="manager2")
comms = persona(CommsFactory, username="comms")
admin = persona(UserFactory, username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def personas(responder, other_responder, manager, second_manager, comms, admin, contoso_user):
    """Return every role the authorization tests try, by the name their matrices use."""
    return {
        "member_responder": responder,
        "outsider_responder": other_responder,
        "opening_manager": manager,
        "other_manager": second_manager,
        "comms": comms,
        "admin": admin,
        "customer": contoso_user,
    }
