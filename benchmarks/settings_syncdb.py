"""Benchmark settings that build the schema from the models (``migrate --run-syncdb``).

For a tree whose newest models have no migration yet (work in progress before integration);
once migrations exist, ``benchmarks.settings`` with ordinary ``migrate`` is the same thing.
"""

from benchmarks.settings import *  # noqa: F403

MIGRATION_MODULES = {label: None for label in ("cases", "notifications", "auth", "contenttypes", "sessions", "admin",
                                                "guardian", "otp_totp", "otp_static", "axes", "django_tasks_database")}
