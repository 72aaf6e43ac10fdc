"""Configuration from the environment: clear one-line errors, safe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from irt.envconfig import env_bool, env_int, env_json, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_sqlite_url_is_relative_to_the_project_folder():
    config = parse_database_url("sqlite:///db.sqlite3", base_dir=Path("/srv/irt"))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/irt/db.sqlite3"


def test_absolute_sqlite_path_is_kept():
    assert parse_database_url("sqlite:////var/lib/irt.db", base_dir=Path("/srv"))["NAME"] == "/var/lib/irt.db"


def test_postgres_url_gives_every_connection_field():
    config = parse_database_url("postgres://irt:p%40ss@db.internal:6543/irt_prod?sslmode=require", base_dir=ROOT)
    assert config["ENGINE"] == "irt.db.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "irt", "p@ss", "db.internal", "6543", "irt_prod"
    )
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "url, words",
    [
        ("mysql://root@localhost/irt", "not supported"),
        ("just-a-path.db", "not a URL"),
        ("postgres://localhost:5432/", "names no database"),
        ("postgres://localhost:port/irt", "port that is not a number"),
        ("sqlite://", "names no file"),
    ],
)
def test_bad_database_url_is_explained(url, words):
    with pytest.raises(ImproperlyConfigured, match=words):
        parse_database_url(url, base_dir=ROOT)


def test_env_helpers_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env_bool("X_BOOL", False)
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("X_INT", 1)


def run_manage(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_invalid_database_url_stops_manage_py_with_one_clear_line():
    result = run_manage({"DATABASE_URL": "mysql://root@localhost/irt"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL scheme 'mysql' is not supported" in lines[0]


def test_production_without_secret_key_stops_with_one_clear_line():
    result = run_manage({"DEBUG": "0"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_argon2_hashes_new_passwords_in_production_settings(settings):
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password

    # The test suite swaps in MD5 for speed; the configured list is what production uses.
    from irt import settings as configured

    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    # Hashing for real proves the argon2 library is installed, not only that the name is listed.
    encoded = make_password("correct horse battery staple")
    assert encoded.startswith("argon2$argon2id$")
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password("correct horse battery staple", encoded)
    assert not check_password("correct horse battery stapler", encoded)
    assert settings.USE_TZ is True and configured.TIME_ZONE == "UTC"


def test_storage_options_come_from_json_and_bad_json_is_explained(monkeypatch):
    monkeypatch.setenv("X_JSON", '{"bucket_name": "irt-evidence", "region_name": "eu-west-1"}')
    assert env_json("X_JSON", {}) == {"bucket_name": "irt-evidence", "region_name": "eu-west-1"}
    monkeypatch.setenv("X_JSON", "{bucket")
    with pytest.raises(ImproperlyConfigured, match="not valid JSON"):
        env_json("X_JSON", {})


def test_file_email_backend_writes_to_email_file_path_from_the_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "sendtestemail", "someone@irt.example"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")},
                         "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                         "EMAIL_FILE_PATH": str(tmp_path / "mail")},
    )
    assert result.returncode == 0, result.stderr
    [written] = (tmp_path / "mail").iterdir()
    assert "someone@irt.example" in written.read_text()
