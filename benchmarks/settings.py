"""Settings for benchmarks: production-like (DEBUG off) plus a trivial view to compare against."""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("IRT_TIMELINE_KEY", "benchmark-only-timeline-key-0123456789abcdef0123456789")
def _throwaway_ed25519_key() -> str:
    """Write a new Ed25519 key (PEM) to a temporary file and return its path."""
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as file:
        file.write(key)
    return file.name


# Production settings insist on Ed25519 keys for timeline checkpoints and customer notices; a
# benchmark signs with throwaway ones.
for _name in ("IRT_CHECKPOINT_KEY_FILE", "IRT_NOTICE_KEY_FILE"):
    if _name not in os.environ:
        os.environ[_name] = _throwaway_ed25519_key()

from irt.settings import *  # noqa: E402,F403

ROOT_URLCONF = "benchmarks.urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
