"""``/healthz`` answers within 2 s whatever the database does: a frozen database is a 503, not a hang."""

import socket
import threading
import time

import pytest
from django.db import connections
from django.urls import reverse

from irt import views


@pytest.fixture
def frozen_database(monkeypatch, client, db):
    """Point the default database at a socket that accepts connections and never says a word.

    This is what a SIGSTOPped PostgreSQL or a black-holed network path looks like to a client:
    the TCP handshake completes (the kernel answers it) and then nothing comes back.
    """
    # Warm up first (URLconf, middleware, the PostgreSQL driver's import), so the clock below
    # measures the probe, not Python loading modules on a first request.
    import django.db.backends.postgresql.base  # noqa: F401

    client.get(reverse("healthz"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept_and_stay_silent():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    frozen = {**connections.settings["default"], "ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1",
              "PORT": str(listener.getsockname()[1]), "NAME": "irt", "USER": "irt", "PASSWORD": "",
              "OPTIONS": {"connect_timeout": 30}, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    # Only the probe thread opens a connection from these settings; this thread keeps its own.
    monkeypatch.setitem(connections.settings, "default", frozen)
    monkeypatch.setattr(views, "probe", views.DatabaseProbe())
    yield accepted
    stop.set()
    for sock in accepted:
        sock.close()
    listener.close()


def test_healthz_answers_503_within_two_seconds_when_the_database_is_frozen(client, db, frozen_database):
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    assert time.monotonic() - started < 2
    assert frozen_database, "the probe did not even reach the frozen database"


def test_healthz_keeps_answering_fast_while_an_earlier_probe_is_stuck(client, db, frozen_database):
    client.get(reverse("healthz"))
    started = time.monotonic()
    answers = [client.get(reverse("healthz")).status_code for _ in range(5)]
    assert answers == [503] * 5
    assert time.monotonic() - started < 2, "a stuck probe made later requests wait"
    stuck_probes = [t for t in threading.enumerate() if t.name == "healthz-probe"]
    assert len(stuck_probes) <= 1, "every request started a thread of its own against the frozen database"


def test_healthz_timeout_is_configurable(client, db, frozen_database, settings):
    settings.IRT_HEALTHZ_TIMEOUT_SECONDS = 0.2
    started = time.monotonic()
    assert client.get(reverse("healthz")).status_code == 503
    assert time.monotonic() - started < 1


def test_postgresql_connections_get_a_connect_and_a_statement_timeout_by_default():
    from pathlib import Path

    from irt.envconfig import parse_database_url

    config = parse_database_url("postgres://irt@db:5432/irt", base_dir=Path("/srv"), connect_timeout=5,
                                statement_timeout_ms=30000)
    assert config["OPTIONS"] == {"connect_timeout": 5, "options": "-c statement_timeout=30000"}
    explicit = parse_database_url("postgres://irt@db:5432/irt?connect_timeout=2", base_dir=Path("/srv"),
                                  connect_timeout=5, statement_timeout_ms=0)
    assert explicit["OPTIONS"] == {"connect_timeout": 2}


def test_the_settings_set_the_timeouts_on_postgresql(settings):
    assert settings.IRT_DB_CONNECT_TIMEOUT == 5 and settings.IRT_DB_STATEMENT_TIMEOUT_MS == 30000
    if connections["default"].vendor == "postgresql":
        options = connections["default"].settings_dict["OPTIONS"]
        assert options["connect_timeout"] and "statement_timeout" in options["options"]
