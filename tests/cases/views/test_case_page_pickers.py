"""The case page's pickers: staff read once for both people pickers, only organisations not on the case offered."""

import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.forms.widgets import FlatSelect
from cases.models import Case
from tests.factories import AffectedCustomerFactory, OrganizationFactory, StaffFactory, case_in_stage

pytestmark = pytest.mark.django_db


def select(page: str, name: str) -> str:
    return re.search(rf'<select name="{name}"[^>]*>.*?</select>', page, re.S).group(0)


def test_the_people_pickers_share_one_read_of_the_staff(client, manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    StaffFactory(first_name="Pat", last_name="Picker")
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:  # the request that renders the page (later ones are kept: no read)
        page = client.get(case.get_absolute_url()).content.decode()
    staff_reads = [query for query in captured.captured_queries
                   if "SELECT DISTINCT" in query["sql"] and '"cases_user"' in query["sql"]]
    # One read for the member and the task pickers, one for the owner picker (who may own a case is narrower).
    assert len(staff_reads) == 2
    member, assignee = select(page, "user"), select(page, "assignee")
    assert "Pat Picker" in member and "Pat Picker" in assignee
    assert '<option value="" selected>Unassigned</option>' in assignee and "Unassigned" not in member


def test_the_organisation_picker_offers_only_organisations_not_on_the_case(client, manager):
    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    on_case = OrganizationFactory(name="Already Affected Ltd")
    AffectedCustomerFactory(case=case, by=manager, organization=on_case)
    OrganizationFactory(name="Not Yet <Affected> & Co")
    client.force_login(manager)
    picker = select(client.get(case.get_absolute_url()).content.decode(), "organization")
    assert "Already Affected Ltd" not in picker
    assert "Not Yet &lt;Affected&gt; &amp; Co" in picker and "required" in picker


def test_flat_select_writes_what_django_select_writes_escaped_and_selected():
    class Form(forms.Form):
        choice = forms.ChoiceField(choices=[("", "None"), ("1", "<b>One</b>"), ("2", "Two & more")], widget=FlatSelect)

    class DjangoForm(forms.Form):
        choice = forms.ChoiceField(choices=Form.base_fields["choice"].choices)

    html = str(Form(initial={"choice": "1"})["choice"])
    assert html == str(DjangoForm(initial={"choice": "1"})["choice"])
    assert '<option value="1" selected>&lt;b&gt;One&lt;/b&gt;</option>' in html and "Two &amp; more" in html
    with pytest.raises(TypeError):
        grouped = forms.ChoiceField(choices=[("Group", [("1", "One")])], widget=FlatSelect)
        grouped.widget.render("grouped", None)
