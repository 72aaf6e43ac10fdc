"""API tokens: a named, scoped, expiring credential of one user, stored only as a hash.

A token is ``irt_<prefix>_<secret>``. The prefix is public (it names the token in lists and logs);
the whole token's SHA-256 is what is stored, so a database read never yields a usable token. A
SHA-256 rather than a password hash is right here: the secret has 256 bits of entropy, so there is
nothing to slow down a guess of, and every API request must check one.
"""

from django.db import models
from django.utils import timezone

from cases.models.fields import user_field


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        ALERTS_WRITE = "alerts:write", "Send alerts"
        ALERTS_READ = "alerts:read", "Read alerts and triage them"
        CASES_READ = "cases:read", "Read cases"
        CASES_WRITE = "cases:write", "Open and change cases"
        EVIDENCE_WRITE = "evidence:write", "Upload evidence"

    user = user_field(on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = user_field(optional=True, on_delete=models.SET_NULL, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_from = models.GenericIPAddressField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
