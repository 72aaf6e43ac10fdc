"""seed_demo's alert connector: it sends alerts and can do nothing else."""

from django.core.management import call_command

from cases.access.permissions import can_open_cases, can_send_alerts, is_staff_user
from cases.models import Alert, ApiToken, User


def test_seed_demo_connector_sends_alerts_with_no_team_and_cannot_open_cases(db):
    call_command("seed_demo")
    connector = User.objects.get(username="sentinel-connector")
    assert not connector.groups.exists()
    assert can_send_alerts(connector) and not can_open_cases(connector) and not is_staff_user(connector)
    token = ApiToken.objects.get(user=connector)
    assert token.scopes == ["alerts:write"] and token.is_active
    assert Alert.objects.filter(received_by=connector).count() == 4
