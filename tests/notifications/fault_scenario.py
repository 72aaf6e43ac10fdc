"""The data of the fault tests, written by a ``manage.py shell`` against the test's own cluster.

Run inside the process under test (not pytest's), so the breach notices are written and queued
exactly as production writes them: one notification, a fan-out task, one email delivery per
security contact.
"""

from cases.models import Case
from cases.services import breach
from tests.factories import AffectedCustomerFactory, CommsFactory, ManagerFactory, OrganizationFactory, case_in_stage
from tests.notifications.conftest import publish_update

ORGANISATIONS = 20


def declare_breach_with_recipients(recipients: int) -> None:
    """Declare a breach whose notice goes to ``recipients`` security contacts over 20 organisations."""
    manager, comms = ManagerFactory(username="fault-manager"), CommsFactory(username="fault-comms")
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    organisations = min(ORGANISATIONS, recipients)
    for number in range(organisations):
        contacts = [f"security-{n}@org{number}.example" for n in range(number, recipients, organisations)]
        organisation = OrganizationFactory(name=f"Org {number}", slug=f"org{number}", security_contacts="\n".join(contacts))
        AffectedCustomerFactory(case=case, by=manager, organization=organisation, data_disclosed=True,
                                impact_statement=f"Objects of org {number} were read.")
    breach.declare_breach(case=case, by=manager, note="Logs confirm external reads.")
    publish_update(case, comms=comms)
