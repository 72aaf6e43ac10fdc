"""Django admin by sub-domain; importing this package (admin autodiscovery) registers every module."""

from cases.admin import alerts, api_tokens, cases, clocks, playbooks  # noqa: F401
