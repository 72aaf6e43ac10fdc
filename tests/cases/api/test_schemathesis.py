"""Schemathesis against the API's own schema: every operation, its default checks, no failure.

The schema is loaded from the WSGI app (no server), and every call carries a full-scope token of
a manager, so generated requests reach the views rather than stopping at 401. A few examples
per operation keep the run short; CI runs the same test.
"""

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, settings

from irt.wsgi import application
from tests.cases.api.conftest import token_for
from tests.factories import ManagerFactory, case_in_stage

# The default checks, with one documented choice: schema-valid data may also be refused 422 when it
# names something that does not exist (an unknown username or organisation), which no schema can
# say. 400 stays a failure for schema-valid data, and 5xx is never accepted.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}}}
)


def load_schema():
    """Return the schema the app serves at /api/v1/openapi.json, bound to the WSGI app."""
    from django.test import Client

    # Loaded at collection, before the test environment allows the "testserver" host.
    response = Client(SERVER_NAME="localhost").get("/api/v1/openapi.json")
    assert response.status_code == 200
    loaded = schemathesis.openapi.from_dict(response.json(), config=CONFIG)
    loaded.app = application
    return loaded


schema = load_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open():
    """Call the WSGI app as Django's test client does: without closing the test's connection.

    Outside the test client every request ends with ``close_old_connections``, which on
    PostgreSQL closes the connection holding the test's transaction.
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def manager_token(db):
    manager = ManagerFactory(username="schemathesis-manager")
    case_in_stage("diagnosing", manager=manager)
    return token_for(manager)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_operation_conforms_to_its_schema(case, manager_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {manager_token}"})
