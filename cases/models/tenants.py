"""The cloud tenants, subscriptions, accounts and projects each customer organisation owns.

An alert whose resources carry one of these ids names the organisation as a *candidate*
affected customer of the case it becomes; a responder still decides (nothing is granted).
"""

from django.db import models

from cases.models.accounts import Organization


class OrganizationTenant(models.Model):
    class Kind(models.TextChoices):
        AZURE_TENANT = "azure_tenant", "Entra ID tenant"
        AZURE_SUBSCRIPTION = "azure_subscription", "Azure subscription"
        AWS_ACCOUNT = "aws_account", "AWS account"
        GCP_PROJECT = "gcp_project", "Google Cloud project"
        OTHER = "other", "Other"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tenants")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    # Stored lower-case (``save``), as intake derives it from resource ids, so the match is an indexed equality.
    tenant_id = models.CharField("tenant id", max_length=200, unique=True)

    class Meta:
        ordering = ["organization", "tenant_id"]
        verbose_name = "cloud tenant"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.tenant_id}"

    def save(self, *args, **kwargs):
        self.tenant_id = self.tenant_id.strip().lower()
        super().save(*args, **kwargs)
