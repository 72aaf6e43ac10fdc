"""Read configuration from the environment, failing with one clear line when it is wrong.

Kept free of Django imports beyond ``ImproperlyConfigured`` (and dj-database-url, which imports
no apps) so settings can use it before apps load.
"""

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable, or the contents of the file named by ``NAME_FILE`` (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from exc
    return os.environ.get(name, default)


def env_path(name: str, default: Path | None = None) -> Path | None:
    """Return the variable as a path (a file holding a secret, say), or ``default`` when unset."""
    raw = os.environ.get(name, "").strip()
    return Path(raw) if raw else default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json(name: str, default):
    raw = env_str(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None


_SCHEMES = {"postgres", "postgresql", "sqlite"}
_SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so the web process and the worker queue behind
    # each other instead of failing with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def parse_database_url(url: str, *, base_dir: Path, connect_timeout: int = 0, statement_timeout_ms: int = 0) -> dict:
    """Turn ``postgres://user:pw@host:port/name`` or ``sqlite:///path`` into a DATABASES entry.

    dj-database-url parses; this adds what it leaves open: only the two engines the project runs
    on, a one-line reason for each wrong value (it would take ``sqlite://`` as an in-memory
    database, which loses every change), and a relative SQLite path taken from the project folder
    so ``make run`` works from any working directory.

    On PostgreSQL ``connect_timeout`` (seconds) and ``statement_timeout_ms`` (0: none) bound how
    long a request can wait for a database that does not answer; values in the URL's query win.
    """
    if "://" not in url:
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r} is not a URL; expected postgres://user@host:5432/name or sqlite:///path.db"
        )
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported; use postgres:// or sqlite:///"
        )
    if parts.scheme == "sqlite":
        if unquote(parts.path) in ("", "/"):
            raise ImproperlyConfigured("DATABASE_URL for SQLite names no file; use sqlite:///db.sqlite3")
        config = dj_database_url.parse(url)
        if config["NAME"] != ":memory:":
            config["NAME"] = str(base_dir / config["NAME"])  # an absolute NAME stays as it is
        config["OPTIONS"] = dict(_SQLITE_OPTIONS)
        return config
    if not unquote(parts.path.lstrip("/")):
        raise ImproperlyConfigured("DATABASE_URL for PostgreSQL names no database; add /name at the end")
    try:
        parts.port
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL has a port that is not a number") from None
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except (dj_database_url.ParseError, ValueError):
        raise ImproperlyConfigured("DATABASE_URL is not a valid URL; quote special characters (%40 for @)") from None
    config["PORT"] = str(config.get("PORT") or "")
    # Django's backend with a health check that costs no round trip (irt/db/postgresql/base.py).
    config["ENGINE"] = "irt.db.postgresql"
    options = config.setdefault("OPTIONS", {})
    if connect_timeout:
        options.setdefault("connect_timeout", connect_timeout)
    if statement_timeout_ms and "options" not in options:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return config
