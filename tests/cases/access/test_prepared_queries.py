"""The portal's access queries compiled once per process (issue 18): the same decisions as the ORM's, with each request's values."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.db.models.expressions import RawSQL
from django.http import Http404

from cases.access.grants import grant_incident_access, revoke_incident_access
from cases.access.lookups import get_incident_page_for
from cases.access.prepared import PreparedQuery
from cases.access.querysets import customer_incidents
from cases.models import Case
from cases.selectors.portal import first_index_rows
from cases.services import breach, communications
from tests.factories import AffectedCustomerFactory, CustomerUserFactory, case_in_stage


def incident_for(organization, manager, comms, *, publish=True):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    AffectedCustomerFactory(case=case, by=manager, organization=organization)
    if publish:
        update = communications.draft_update(case=case, by=manager, public_title=f"Title {case.pk}", what_happened="Readable.")
        communications.approve_update(update=update, by=comms)
    return case


def decisions(user, cases) -> tuple[dict, dict]:
    """Return (prepared, ORM) answers to "may the user read this incident page?" for each case."""
    prepared = {}
    for case in cases:
        try:
            get_incident_page_for(user, case.reference)
            prepared[case.reference] = True
        except Http404:
            prepared[case.reference] = False
    orm = {case.reference: customer_incidents(user).filter(pk=case.pk).exists() for case in cases}
    return prepared, orm


def test_the_prepared_lookup_decides_as_customer_incidents_for_every_reader_and_case(contoso, fabrikam, contoso_user, fabrikam_user,
                                                                                     manager, comms, responder):
    shown = incident_for(contoso, manager, comms)
    unpublished = incident_for(contoso, manager, comms, publish=False)
    revoked = incident_for(contoso, manager, comms)
    revoke_incident_access(revoked, contoso)
    withdrawn = incident_for(contoso, manager, comms)
    breach.withdraw_affected_customer(row=withdrawn.affected_customers.get(), by=manager, reason="Not affected.")
    granted_only = case_in_stage(Case.Status.STABILIZING, manager=manager)  # a grant without a confirmed row
    grant_incident_access(granted_only, contoso)
    theirs = incident_for(fabrikam, manager, comms)
    inactive = CustomerUserFactory(organization=contoso, is_active=False)
    cases = [shown, unpublished, revoked, withdrawn, granted_only, theirs]
    for user in (contoso_user, fabrikam_user, inactive, responder, manager):
        prepared, orm = decisions(user, cases)
        assert prepared == orm, user.username
    assert decisions(contoso_user, cases)[0] == {shown.reference: True, unpublished.reference: False, revoked.reference: False,
                                                withdrawn.reference: False, granted_only.reference: False, theirs.reference: False}


def test_the_prepared_lookup_reads_the_readers_own_acknowledgement(contoso, contoso_user, manager, comms):
    case = incident_for(contoso, manager, comms)
    colleague = CustomerUserFactory(organization=contoso)
    assert get_incident_page_for(contoso_user, case.reference).acknowledged_at is None
    acknowledgement = communications.acknowledge(case=case, user=contoso_user)
    assert get_incident_page_for(contoso_user, case.reference).acknowledged_at == acknowledgement.acknowledged_at
    assert get_incident_page_for(colleague, case.reference).acknowledged_at is None


def test_the_first_index_rows_are_the_orm_lists(contoso, fabrikam, contoso_user, fabrikam_user, manager, comms):
    cases = [incident_for(contoso, manager, comms) for _ in range(3)]
    incident_for(fabrikam, manager, comms)
    communications.acknowledge(case=cases[1], user=contoso_user)
    revoke_incident_access(cases[2], contoso)
    rows = first_index_rows(contoso_user)
    assert [(pk, acknowledged) for pk, _, _, _, acknowledged in rows] == [(cases[1].pk, True), (cases[0].pk, False)]
    assert [row[1] for row in rows] == [cases[1].reference, cases[0].reference]
    assert len(first_index_rows(fabrikam_user)) == 1
    assert first_index_rows(CustomerUserFactory(organization=contoso, is_active=False)) == []


def test_a_query_whose_text_holds_a_value_is_refused(db):
    """A value compiled into the SQL text instead of its parameters would be run with the first caller's value."""
    inlined = PreparedQuery(lambda *, reference: Case.objects.filter(pk__in=RawSQL(f"SELECT id FROM cases_case WHERE reference = '{reference}'", ()))
                            .values_list("pk"),
                            placeholders={"reference": "IRT-PLACEHOLDER-A"}, others={"reference": "IRT-PLACEHOLDER-B"})
    with pytest.raises(ImproperlyConfigured):
        inlined.rows(reference="IRT-2026-0001")


def test_a_placeholder_the_query_never_uses_is_refused(db):
    unused = PreparedQuery(lambda *, reference, organization_id: Case.objects.filter(reference=reference).values_list("pk"),
                           placeholders={"reference": "IRT-PLACEHOLDER-A", "organization_id": -1},
                           others={"reference": "IRT-PLACEHOLDER-B", "organization_id": -2})
    with pytest.raises(ImproperlyConfigured):
        unused.rows(reference="IRT-2026-0001", organization_id=1)


def test_a_prepared_query_runs_with_each_calls_values_and_converts_rows(manager):
    first, second = case_in_stage(Case.Status.ASSESSING, manager=manager), case_in_stage(Case.Status.ASSESSING, manager=manager)
    query = PreparedQuery(
        lambda *, reference: Case.objects.filter(reference=reference)
        .annotate(label=Concat(F("reference"), Value("!"))).values_list("pk", "label", "detected_at"),
        placeholders={"reference": "IRT-PLACEHOLDER-A"}, others={"reference": "IRT-PLACEHOLDER-B"})
    assert query.rows(reference=first.reference) == [(first.pk, f"{first.reference}!", first.detected_at)]
    assert query.rows(reference=second.reference) == [(second.pk, f"{second.reference}!", second.detected_at)]
    assert query.rows(reference="IRT-0000-0000") == []
