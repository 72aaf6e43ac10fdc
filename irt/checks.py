"""System checks for configuration the lifecycle and the timeline's integrity depend on."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from cases.models import hooks
from cases.services import notice_signing
from cases.services.timeline_checkpoints import signing_key


def _error_when(failed: bool, message: str, *, hint: str, id: str) -> list[Error]:
    """Return the check's one error when it failed, else nothing: the shape every check here answers in."""
    return [Error(message, hint=hint, id=id)] if failed else []


@register()
def breach_notice_guard_registered(app_configs, **kwargs):
    """A declared breach must never close unnoticed: some app has to answer that question."""
    return _error_when(
        not hooks.registered_close_blocker_providers(),
        "No close-blocker provider is registered, so a case with a declared breach could close "
        "before its customers were notified.",
        hint="Keep 'notifications' in INSTALLED_APPS; it registers the breach-notice guard.",
        id="cases.E001",
    )


@register(Tags.security)
def timeline_key_configured(app_configs, **kwargs):
    """The keyed chain is worth nothing if the key is missing, public (the development one) or short."""
    key = settings.IRT_TIMELINE_KEY
    return _error_when(
        not settings.DEBUG and (not key or key == settings.IRT_TIMELINE_DEVELOPMENT_KEY or len(key) < 32),
        "IRT_TIMELINE_KEY is missing, the development key or shorter than 32 characters, so anyone who can "
        "write the database could rewrite a case timeline and recompute its hashes.",
        hint="Set IRT_TIMELINE_KEY or IRT_TIMELINE_KEY_FILE (python -c 'import secrets; print(secrets.token_hex(32))'), "
        "keep it out of the database and its backups, and never change it while timelines exist.",
        id="cases.E002",
    )


def _key_errors(load, *, what: str, setting: str, filename: str, id: str) -> list[Error]:
    """Return the error of an Ed25519 key that ``load(create=False)`` cannot read; none while DEBUG is on."""
    problem = None
    if not settings.DEBUG:
        try:
            load(create=False)
        except ImproperlyConfigured as exc:
            problem = str(exc)
    return _error_when(
        problem is not None,
        f"{what} cannot be signed: {problem}",
        hint=f"Create a key (openssl genpkey -algorithm ed25519 -out {filename}), readable by the "
        f"application only, and set {setting} to its path.",
        id=id,
    )


@register(Tags.security)
def checkpoint_key_configured(app_configs, **kwargs):
    """Signed checkpoints need a readable Ed25519 key; in production it is never generated on the fly."""
    return _key_errors(signing_key, what="Timeline checkpoints", setting="IRT_CHECKPOINT_KEY_FILE",
                       filename="checkpoint.pem", id="cases.E003")


@register(Tags.security)
def notice_key_configured(app_configs, **kwargs):
    """Customer notices are signed; in production the key is given, never generated on the fly."""
    return _key_errors(notice_signing.private_key, what="Customer notices", setting="IRT_NOTICE_KEY_FILE",
                       filename="notice.pem", id="cases.E004")
