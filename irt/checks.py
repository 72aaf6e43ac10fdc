"""System checks for configuration the lifecycle depends on."""

from django.core.checks import Error, register

from cases.models import hooks


@register()
def breach_notice_guard_registered(app_configs, **kwargs):
    """A declared breach must never close unnoticed: some app has to answer that question."""
    if not hooks.registered_close_blocker_providers():
        return [
            Error(
                "No close-blocker provider is registered, so a case with a declared breach could close "
                "before its customers were notified.",
                hint="Keep 'notifications' in INSTALLED_APPS; it registers the breach-notice guard.",
                id="cases.E001",
            )
        ]
    return []
