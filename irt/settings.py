"""IRT settings, read from the environment.

Defaults are safe for development right after checkout (SQLite, DEBUG on, console email);
production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL. Every variable is listed
in the README.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from irt.envconfig import env_bool, env_int, env_json, env_list, env_path, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off; set SECRET_KEY or SECRET_KEY_FILE "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "insecure-development-key-only-used-when-debug-is-on-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
IRT_SITE_URL = env_str("IRT_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "irt.apps.IRTAdminConfig",  # django.contrib.admin with the second-factor check
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "django_fsm",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "irt",
    "cases",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside sessions, CSRF and messages, so it can keep their cookies off public pages.
    "irt.middleware.CacheHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, taking the user read in the same query as the session (cases.access.sessions).
    "cases.views.middleware.SignedInUserMiddleware",
    # django-otp's, checking the second factor against the devices read with the user (no query of its own).
    "cases.views.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cases.views.middleware.AccountSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "irt.middleware.SecurityHeadersMiddleware",
    # Last, so it sees the lockout flag the authentication backend sets on the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "irt.urls"
WSGI_APPLICATION = "irt.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.views.context_processors.roles",
            ],
        },
    },
]

# A database that stops answering must not hold a request (or the worker) without limit: a
# connection attempt gives up after IRT_DB_CONNECT_TIMEOUT seconds, a statement after
# IRT_DB_STATEMENT_TIMEOUT_MS (0 turns it off, e.g. for a long manual migration).
IRT_DB_CONNECT_TIMEOUT = env_int("IRT_DB_CONNECT_TIMEOUT", 5, minimum=1)
IRT_DB_STATEMENT_TIMEOUT_MS = env_int("IRT_DB_STATEMENT_TIMEOUT_MS", 30_000, minimum=0)
DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", "sqlite:///db.sqlite3"), base_dir=BASE_DIR,
        connect_timeout=IRT_DB_CONNECT_TIMEOUT, statement_timeout_ms=IRT_DB_STATEMENT_TIMEOUT_MS,
    )
}
# /healthz answers 503 when the database has not answered within this many seconds.
IRT_HEALTHZ_TIMEOUT_SECONDS = env_int("IRT_HEALTHZ_TIMEOUT_MS", 1500, minimum=100) / 1000
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "cases.User"
# The shared cache of a multi-node deployment (rate-limit counts, rendered public pages, cached
# sessions): Redis when REDIS_URL is set, else each process's own memory. A Redis outage is a
# miss, never an error (irt/cache.py); sessions stay in the database, Redis only spares the read.
REDIS_URL = env_str("REDIS_URL", "")
# Django's engines, reading the session row with a query compiled once per process.
SESSION_ENGINE = "cases.access.sessions.db"
# On PostgreSQL each process keeps signed-in reads until a trigger says a row they came from
# changed (cases/access/sessions/memo.py); 0 reads the database on every request instead.
IRT_SIGNED_IN_MEMO = env_bool("IRT_SIGNED_IN_MEMO", True)
# With a shared cache on PostgreSQL, each process keeps the public pages it served from that cache
# until a publication is announced (irt/public_memo.py); 0 reads the shared cache on every request.
IRT_PUBLIC_PAGE_MEMO = env_bool("IRT_PUBLIC_PAGE_MEMO", True)
# With a shared cache, each process keeps a copy of the kept pages and cached values it reads from
# it, forgetting cached values when a change is announced (irt/near_cache.py); 0 reads the shared cache every time.
IRT_NEAR_CACHE = env_bool("IRT_NEAR_CACHE", True)
# On PostgreSQL, each process keeps the slots of kept pages it rendered until a trigger says a table
# they read changed (irt/watched_reads.py); 0 renders them on every request.
IRT_WATCHED_READS = env_bool("IRT_WATCHED_READS", True)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "irt.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    SESSION_ENGINE = "cases.access.sessions.cached_db"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, asking for a user's own and group permissions in one query.
    "cases.access.backends.PermissionBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous-user row is not needed: anonymous readers only see public pages.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:dashboard"
LOGOUT_REDIRECT_URL = "login"
# A reset link is good for one hour (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=300)

# Accounts: a second factor for every staff user, lockout after repeated failures, idle timeout.
OTP_TOTP_ISSUER = "IRT"
IRT_STAFF_IDLE_MINUTES = env_int("IRT_STAFF_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
AXES_FAILURE_LIMIT = env_int("IRT_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("IRT_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
# The lock is on a username *from one address*: wrong passwords typed elsewhere never lock the
# owner out, and one person's typos do not lock out everyone behind the same NAT. An address
# also has a ceiling of its own across all usernames (password spraying), enforced by
# cases.services.lockout because axes gives all its lockout parameters one limit.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
IRT_LOCKOUT_ADDRESS_FAILURES = env_int("IRT_LOCKOUT_ADDRESS_FAILURES", 50, minimum=1)
AXES_HANDLER = "cases.services.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = False  # reset only after the second factor (cases.views.account)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "cases.views.account.locked_out"
AXES_CLIENT_IP_CALLABLE = "cases.services.security_log.client_ip"
AXES_USERNAME_CALLABLE = "cases.services.sessions.lockout_username"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "new_password1", "new_password2"]
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15, minimum=1)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
# Where django.core.mail.backends.filebased.EmailBackend writes (one file per connection).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "IRT <irt@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TASKS = {
    "default": {
        "BACKEND": env_str("IRT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Security. Production (DEBUG off) is strict by default; each switch can be relaxed by
# environment for a deployment behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("IRT_BEHIND_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Product settings.
IRT_NOTIFY_WITHIN_HOURS = env_int("IRT_NOTIFY_WITHIN_HOURS", 72, minimum=1)
# Alert intake (cases/services/intake.py): alerts sharing observables or resources within the
# window fall into one triage group; the raw payload is kept verbatim up to the byte limit.
IRT_ALERT_CORRELATION_WINDOW_MINUTES = env_int("IRT_ALERT_CORRELATION_WINDOW_MINUTES", 60, minimum=1)
# "inline" groups each alert inside its intake request; "deferred" stores it in one statement and
# leaves grouping to `manage.py correlate_alerts --loop` (production: several intake nodes, high rates).
IRT_ALERT_CORRELATION = env_str("IRT_ALERT_CORRELATION", "inline").strip().lower()
if IRT_ALERT_CORRELATION not in {"inline", "deferred"}:
    raise ImproperlyConfigured(f"IRT_ALERT_CORRELATION={IRT_ALERT_CORRELATION!r}: use inline or deferred")
IRT_ALERT_RAW_MAX_BYTES = env_int("IRT_ALERT_RAW_MAX_BYTES", 256 * 1024, minimum=0)
IRT_ALERT_DESCRIPTION_MAX_CHARS = env_int("IRT_ALERT_DESCRIPTION_MAX_CHARS", 65_536, minimum=1000)
IRT_ALERT_MAX_OBSERVABLES = env_int("IRT_ALERT_MAX_OBSERVABLES", 500, minimum=1)
IRT_ALERT_SIGNATURE_TOLERANCE_SECONDS = env_int("IRT_ALERT_SIGNATURE_TOLERANCE_SECONDS", 300, minimum=10)

# The REST API (cases/api/): Bearer tokens only (no session, so no CSRF), scopes, problem
# details for every error, a rate per token.
IRT_API_RATE = env_str("IRT_API_RATE", "600/min")
# How long a web process trusts a token it verified (0: check every request). A revocation through
# IRT reaches the process that made it at once, other processes within this many seconds.
IRT_API_TOKEN_CACHE_SECONDS = env_int("IRT_API_TOKEN_CACHE_SECONDS", 10, minimum=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["cases.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["cases.api.permissions.TokenScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["cases.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["cases.api.renderers.NoStoreJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "cases.api.renderers.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["cases.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "cases.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cases.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IRT API",
    "DESCRIPTION": "Cases, evidence and alerts of the incident response team. Errors are RFC 9457 problem details.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets named once, so other sub-domains' "status" or "kind" fields never collide with them.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.case.Case.Status",
        "CaseSourceEnum": "cases.models.case.Case.Source",
        "TimelineKindEnum": "cases.models.timeline.TimelineEvent.Kind",
        "CaseDismissalReasonEnum": "cases.models.case.Case.DismissalReason",
        "AlertSourceEnum": "cases.models.alerts.Alert.Source",
        "AlertGroupStatusEnum": "cases.models.alerts.AlertGroup.Status",
        "AlertDismissalReasonEnum": "cases.models.alerts.AlertGroup.DismissalReason",
        "ObservableKindEnum": "cases.models.alerts.Observable.Kind",
        "ClockDecisionKindEnum": "cases.models.clocks.ClockDecision.Kind",
        "ClockKindEnum": "cases.models.deadlines.Deadline.Kind",
        "TenantKindEnum": "cases.models.tenants.OrganizationTenant.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.schema.add_problem_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Evidence (RFC 3227, NIST SP 800-86): write-once files in a storage of their own, outside
# STATIC_ROOT and MEDIA_ROOT, never reachable by URL; the views stream them after a custody record.
IRT_EVIDENCE_DIR = Path(env_str("IRT_EVIDENCE_DIR", str(BASE_DIR / "var" / "evidence")))
IRT_EVIDENCE_MAX_BYTES = env_int("IRT_EVIDENCE_MAX_BYTES", 4 * 1024**3, minimum=0)
IRT_EVIDENCE_STORAGE = env_str("IRT_EVIDENCE_STORAGE", "django.core.files.storage.FileSystemStorage")
STORAGES["evidence"] = {
    "BACKEND": IRT_EVIDENCE_STORAGE,
    "OPTIONS": {
        "location": IRT_EVIDENCE_DIR,
        # Read-only once written: a changed item must take an explicit chmod first.
        "file_permissions_mode": 0o440,
        "directory_permissions_mode": 0o750,
    }
    if IRT_EVIDENCE_STORAGE == "django.core.files.storage.FileSystemStorage"
    # Any other backend (django-storages' S3Storage, say) takes its options as JSON, so moving
    # evidence to S3-compatible storage is configuration only.
    else env_json("IRT_EVIDENCE_STORAGE_OPTIONS", {}),
}

# Timeline integrity (cases/models/timeline.py, cases/services/timeline_checkpoints.py). Each
# event's hash is an HMAC keyed with IRT_TIMELINE_KEY, which never enters the database, so whoever
# can rewrite the table still cannot recompute the chain; the system check cases.E002 refuses the
# development key when DEBUG is off. Changing the key makes every existing event fail verification.
IRT_TIMELINE_DEVELOPMENT_KEY = "insecure-development-timeline-key-only-used-when-debug-is-on"
IRT_TIMELINE_KEY = env_str("IRT_TIMELINE_KEY") or (IRT_TIMELINE_DEVELOPMENT_KEY if DEBUG else "")
# Signed checkpoints of every case's head, written to the evidence storage: an Ed25519 private key
# (PEM, PKCS#8). In development it is generated on first use into var/ (git-ignored); with DEBUG
# off it must be given (system check cases.E003).
IRT_CHECKPOINT_KEY_FILE = env_path(
    "IRT_CHECKPOINT_KEY_FILE", BASE_DIR / "var" / "keys" / "timeline-checkpoint-ed25519.pem" if DEBUG else None
)
IRT_CHECKPOINT_KEY_CREATE = DEBUG
# Signs every customer notice (cases/services/notice_signing.py): an Ed25519 private key (PEM, PKCS#8),
# generated on first use in development; with DEBUG off it must be given (system check cases.E004).
# The public key is served at /.well-known/irt-notice-signing-key.pem.
IRT_NOTICE_KEY_FILE = env_path(
    "IRT_NOTICE_KEY_FILE", BASE_DIR / "var" / "keys" / "notice-signing-ed25519.pem" if DEBUG else None
)
IRT_NOTICE_KEY_CREATE = DEBUG
# How often notify_sweep --loop writes checkpoints (only heads that moved since the last one).
IRT_TIMELINE_CHECKPOINT_MINUTES = env_int("IRT_TIMELINE_CHECKPOINT_MINUTES", 60, minimum=1)

# Notifications (notifications/): retries with exponential backoff and jitter, worker leases,
# the sweeper's period. IRT_WEBHOOK_ALLOW_PRIVATE lets webhooks reach loopback/private
# addresses over http: only the test suite sets it.
IRT_NOTIFY_MAX_ATTEMPTS = env_int("IRT_NOTIFY_MAX_ATTEMPTS", 10, minimum=1)
IRT_NOTIFY_RETRY_BASE_SECONDS = env_int("IRT_NOTIFY_RETRY_BASE_SECONDS", 30, minimum=1)
IRT_NOTIFY_RETRY_MAX_SECONDS = env_int("IRT_NOTIFY_RETRY_MAX_SECONDS", 3600, minimum=1)
IRT_NOTIFY_LEASE_SECONDS = env_int("IRT_NOTIFY_LEASE_SECONDS", 120, minimum=30)
IRT_NOTIFY_REQUEUE_AFTER_SECONDS = env_int("IRT_NOTIFY_REQUEUE_AFTER_SECONDS", 600, minimum=30)
IRT_NOTIFY_SWEEP_SECONDS = env_int("IRT_NOTIFY_SWEEP_SECONDS", 60, minimum=5)
# A worker claims, sends and records this many emails at a time; a large notification's emails
# are worked by this many drain tasks (run more worker processes than that and some stay idle).
IRT_NOTIFY_BATCH_SIZE = env_int("IRT_NOTIFY_BATCH_SIZE", 100, minimum=1)
IRT_NOTIFY_DRAIN_TASKS = env_int("IRT_NOTIFY_DRAIN_TASKS", 8, minimum=1)
# Deliveries that die within one window of this many minutes are reported to admins in one notice.
IRT_NOTIFY_DEAD_DIGEST_MINUTES = env_int("IRT_NOTIFY_DEAD_DIGEST_MINUTES", 60, minimum=1)
# The worker and the sweeper wait out a database outage, backing off up to this long between tries.
IRT_WORKER_BACKOFF_MAX_SECONDS = env_int("IRT_WORKER_BACKOFF_MAX_SECONDS", 60, minimum=1)
# One webhook attempt (connect, TLS, request and response together) ends after this long.
IRT_WEBHOOK_TIMEOUT_SECONDS = env_int("IRT_WEBHOOK_TIMEOUT_SECONDS", 15, minimum=1)
# A worker sends webhooks from a pool of threads: at most IRT_WEBHOOK_CONCURRENCY requests started
# in the last 0.25 s, at most IRT_WEBHOOK_MAX_IN_FLIGHT in all (a request still unanswered after
# that gives its place to the next, so slow receivers wait beside the others, not in front).
IRT_WEBHOOK_CONCURRENCY = env_int("IRT_WEBHOOK_CONCURRENCY", 32, minimum=1)
IRT_WEBHOOK_MAX_IN_FLIGHT = env_int("IRT_WEBHOOK_MAX_IN_FLIGHT", 1024, minimum=1)
# After a secret rotation, webhooks are signed with the old secret too for this long.
IRT_WEBHOOK_SECRET_OVERLAP_HOURS = env_int("IRT_WEBHOOK_SECRET_OVERLAP_HOURS", 24, minimum=0)
IRT_WEBHOOK_ALLOW_PRIVATE = False
TEMPLATES[0]["OPTIONS"]["context_processors"].append("notifications.context_processors.inbox")
