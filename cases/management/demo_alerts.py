"""Demo alerts for ``seed_demo``: tenants, the Sentinel connector's service account, two alert groups.

One group (a Sentinel incident and a Defender alert about the same storage account) is promoted
to a case; another (an OCSF finding on Fabrikam's AWS account) waits in triage. Idempotent: an
alert already stored is not sent again (a replay would raise its seen-count on every run).
"""

from datetime import timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone

from cases.models import Alert, AlertGroup, ApiToken, OrganizationTenant, User
from cases.services import api_tokens
from cases.services.intake import ingest_alert
from cases.services.triage import promote_group

CONNECTOR = "sentinel-connector"
TENANTS = [
    ("contoso", OrganizationTenant.Kind.AZURE_SUBSCRIPTION, "8f2e6c1a-44b7-4d3a-9c55-abcdef012345"),
    ("contoso", OrganizationTenant.Kind.AZURE_TENANT, "5c1d3e2f-0a9b-4c8d-9e7f-6a5b4c3d2e1f"),
    ("fabrikam", OrganizationTenant.Kind.AWS_ACCOUNT, "210987654321"),
]
CONTOSO_ACCOUNT = "/subscriptions/8f2e6c1a-44b7-4d3a-9c55-abcdef012345/resourceGroups/contoso-data/providers/Microsoft.Storage/storageAccounts/contosoexports"


def _alerts(now):
    ago = lambda minutes: (now - timedelta(minutes=minutes)).isoformat()  # noqa: E731
    promoted = [
        {"source": "sentinel", "source_ref": "7e4b2d1c-90aa-4f3e-8c1b-5d6e7f809a1b", "severity": "high",
         "title": "Mass download from a storage account by a new IP", "observed_at": ago(95),
         "correlation_key": "sentinel-incident-48213",
         "description": "A service principal listed and downloaded 4,812 blobs from contosoexports from an IP never seen for it.",
         "observables": [{"kind": "ip", "value": "203.0.113.77"},
                         {"kind": "user_account", "value": "backup-sync@contoso.onmicrosoft.com"},
                         {"kind": "cloud_resource", "value": CONTOSO_ACCOUNT}],
         "resources": [CONTOSO_ACCOUNT], "raw": {"incidentNumber": 48213, "providerName": "Azure Sentinel"}},
        {"source": "sentinel", "source_ref": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "severity": "medium",
         "title": "Unusual amount of data extracted from a storage account", "observed_at": ago(90),
         "correlation_key": "sentinel-incident-48213",
         "observables": [{"kind": "ip", "value": "203.0.113.77"}], "resources": [CONTOSO_ACCOUNT],
         "raw": {"productName": "Microsoft Defender for Storage"}},
    ]
    waiting = [
        {"source": "ocsf", "source_ref": "finding-2026-000417", "severity": "critical",
         "title": "Root user disabled S3 Block Public Access", "observed_at": ago(25),
         "description": "The account root user called PutPublicAccessBlock with all settings false on fabrikam-customer-exports.",
         "observables": [{"kind": "ip", "value": "198.51.100.23"}, {"kind": "user_account", "value": "root"}],
         "resources": [{"id": "arn:aws:s3:::fabrikam-customer-exports", "tenant_id": "210987654321"}],
         "raw": {"class_uid": 2004, "severity_id": 5}},
        {"source": "wazuh", "source_ref": "wazuh-1772440555.1182", "severity": "medium",
         "title": "Console sign-in from an anonymising proxy", "observed_at": ago(20),
         "observables": [{"kind": "ip", "value": "198.51.100.23"}], "resources": [],
         "raw": {"rule": {"id": "100210", "level": 10}}},
    ]
    return promoted, waiting


def seed_alerts(*, users: dict, orgs: dict) -> int:
    """Create the demo tenants, connector and alerts if missing; return how many alerts were new."""
    for slug, kind, tenant_id in TENANTS:
        OrganizationTenant.objects.get_or_create(tenant_id=tenant_id, defaults={"organization": orgs[slug], "kind": kind})
    connector = User.objects.filter(username=CONNECTOR).first()
    if connector is None:
        # No team: the connector may send alerts (add_alert) and hold an alerts:write token, but
        # not open, read or triage cases (cases.services.api_tokens.may_hold_token).
        connector = api_tokens.create_service_account(by=users["admin"], username=CONNECTOR, teams=[])
        connector.user_permissions.add(Permission.objects.get(content_type__app_label="cases", codename="add_alert"))
    if not ApiToken.objects.filter(user=connector, revoked_at__isnull=True).exists():
        api_tokens.create_token(user=connector, by=users["admin"], name="Sentinel Logic App",
                                scopes=[ApiToken.Scope.ALERTS_WRITE], days=90)
    promoted, waiting = _alerts(timezone.now())
    created = 0
    group = None
    for payload in promoted + waiting:
        if Alert.objects.filter(source=payload["source"], source_ref=payload["source_ref"]).exists():
            continue
        alert, _ = ingest_alert(payload=payload, by=connector)
        created += 1
        if payload in promoted:
            group = alert.group
    if group is not None and AlertGroup.objects.get(pk=group.pk).status == AlertGroup.Status.NEW:
        promote_group(group=group, by=users["responder"], title="Mass download from Contoso's export storage account")
    return created
