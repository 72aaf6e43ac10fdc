"""A customer administrator's changes to their own organisation (issue 16, item 1), each in the security log."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from cases.models import Organization, SecurityEvent, User
from cases.models.exceptions import ActionRefused
from cases.models.accounts import feed_token_digest
from cases.services import customer_admin
from tests.factories import CustomerUserFactory

CHANGED = SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED


@pytest.fixture
def contoso_admin(contoso):
    return CustomerUserFactory(username="contoso-admin", organization=contoso, is_customer_admin=True)


def log_of(organization):
    return list(SecurityEvent.objects.filter(kind=CHANGED, actor__organization=organization).values_list("detail", flat=True))


def test_admin_invites_a_user_who_gets_a_link_to_choose_a_password(contoso_admin, contoso, django_capture_on_commit_callbacks, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        user = customer_admin.invite_user(by=contoso_admin, email="New.Analyst@Contoso.example", first_name="Ana")
    assert user.organization == contoso and user.username == "new.analyst@contoso.example" and not user.is_customer_admin
    assert user.has_usable_password() and not user.is_staff
    assert [m.to for m in mail.outbox] == [["new.analyst@contoso.example"]]
    assert "/accounts/reset/" in mail.outbox[0].body
    assert log_of(contoso) == ["Contoso (contoso): invited new.analyst@contoso.example"]


def test_inviting_an_address_that_has_an_account_is_refused(contoso_admin, fabrikam_user):
    fabrikam_user.email = "taken@example.com"
    fabrikam_user.save()
    with pytest.raises(ActionRefused):
        customer_admin.invite_user(by=contoso_admin, email="TAKEN@example.com")
    assert User.objects.filter(organization__slug="contoso").count() == 1


def test_admin_removes_a_user_who_can_no_longer_sign_in(contoso_admin, contoso_user, contoso):
    customer_admin.remove_user(by=contoso_admin, member=contoso_user)
    contoso_user.refresh_from_db()
    assert not contoso_user.is_active and contoso_user.session_generation == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEACTIVATED, user=contoso_user, actor=contoso_admin).exists()
    assert log_of(contoso) == ["Contoso (contoso): removed customer-contoso"]


def test_admin_cannot_remove_themselves_or_another_organisations_user(contoso_admin, fabrikam_user):
    with pytest.raises(ActionRefused):
        customer_admin.remove_user(by=contoso_admin, member=contoso_admin)
    with pytest.raises(PermissionDenied):
        customer_admin.remove_user(by=contoso_admin, member=fabrikam_user)
    fabrikam_user.refresh_from_db()
    assert fabrikam_user.is_active


def test_ordinary_customers_and_staff_change_nothing(contoso_user, manager):
    for user in (contoso_user, manager):
        with pytest.raises(PermissionDenied):
            customer_admin.add_security_contact(by=user, email="x@example.com")
        with pytest.raises(PermissionDenied):
            customer_admin.rotate_feed_token(by=user)
    assert not SecurityEvent.objects.filter(kind=CHANGED).exists()


def test_admin_adds_and_removes_security_contacts(contoso_admin, contoso):
    customer_admin.add_security_contact(by=contoso_admin, email="SOC@contoso.example")
    customer_admin.add_security_contact(by=contoso_admin, email="soc@contoso.example")  # already there: no change
    assert Organization.objects.get(pk=contoso.pk).security_contact_emails() == ["security@contoso.example", "soc@contoso.example"]
    customer_admin.remove_security_contact(by=contoso_admin, email="security@contoso.example")
    assert Organization.objects.get(pk=contoso.pk).security_contact_emails() == ["soc@contoso.example"]
    assert log_of(contoso) == ["Contoso (contoso): removed security contact security@contoso.example",
                               "Contoso (contoso): added security contact soc@contoso.example"]
    with pytest.raises(ActionRefused):
        customer_admin.add_security_contact(by=contoso_admin, email="not an address")


def test_feed_token_is_stored_hashed_and_rotation_retires_the_old_one(contoso_admin, contoso):
    first = customer_admin.rotate_feed_token(by=contoso_admin)
    second = customer_admin.rotate_feed_token(by=contoso_admin)
    stored = Organization.objects.get(pk=contoso.pk)
    assert first != second and first.startswith("irtfeed_") and len(first) > 40
    assert stored.feed_token_hash == feed_token_digest(second) and second not in stored.feed_token_hash
    assert len(log_of(contoso)) == 2


def test_making_someone_a_customer_administrator_is_a_logged_role_change(contoso_user, admin):
    from cases.services import security_log

    before = security_log.Roles.of(contoso_user)
    contoso_user.is_customer_admin = True
    contoso_user.save()
    event = security_log.record_role_changes(user=contoso_user, before=before, actor=admin)
    assert event.kind == SecurityEvent.Kind.PERMISSIONS_CHANGED and "is_customer_admin: False → True" in event.detail
