"""Playbooks and clocks over the API: the same services and rules as the case page."""

from cases.models import Case, ClockDecision, Deadline
from cases.services import playbooks
from tests.factories import case_in_stage


def test_a_manager_records_awareness_and_the_submission_over_the_api(api, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    client = api(manager, "cases:read", "cases:write")
    response = client.post(f"/api/v1/cases/{case.reference}/clocks/decisions/",
                           {"kind": "personal_data_breach", "note": "The DPO agrees: personal data."})
    assert response.status_code == 201 and response.json()["decided_by"] == "manager"
    clocks = client.get(f"/api/v1/cases/{case.reference}/clocks/").json()
    assert [(c["kind"], c["regime"], c["met_at"]) for c in clocks] == [("gdpr_art33", "GDPR", None)]
    response = client.post(f"/api/v1/cases/{case.reference}/clocks/{clocks[0]['id']}/submissions/",
                           {"recipient": "CNIL", "content": "Art. 33 form.", "reference_number": "CNIL-42"})
    assert response.status_code == 201
    assert Deadline.objects.get(pk=clocks[0]["id"]).met_at is not None


def test_a_submission_for_the_customer_notice_is_refused_with_409(api, manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    clock = Deadline.objects.create(case=case, kind=Deadline.Kind.CUSTOMER_NOTICE, started_at=case.detected_at,
                                    due_at=case.detected_at)
    response = api(manager).post(f"/api/v1/cases/{case.reference}/clocks/{clock.pk}/submissions/", {"content": "Called."})
    assert response.status_code == 409
    clock.refresh_from_db()
    assert clock.met_at is None


def test_evidence_of_another_case_cannot_be_attached_to_a_submission(api, manager):
    from django.core.files.base import ContentFile

    from cases.services import clocks, evidence

    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    other = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    item = evidence.add_evidence(case=other, by=manager, content=ContentFile(b"form"), original_name="form.pdf")
    clocks.record_decision(case=case, by=manager, kind=ClockDecision.Kind.MATERIAL, note="Material.")
    clock = case.deadlines.get()
    response = api(manager).post(f"/api/v1/cases/{case.reference}/clocks/{clock.pk}/submissions/",
                                 {"content": "8-K filed.", "evidence": item.pk})
    assert response.status_code == 400
    assert not clock.submissions.exists()


def test_the_playbook_and_its_steps_are_read_and_a_manager_skips_one(api, manager):
    version = playbooks.save_playbook(by=manager, playbook=None, slug="exposure", name="Exposure", purpose="p",
                                      auto_apply=False, criteria={}, steps=[
                                          {"stage": "diagnosing", "order": 1, "title": "Export logs", "mandatory": True,
                                           "nist_function": "respond"}])
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    playbooks.apply_playbook(case=case, version=version, by=manager)
    client = api(manager)
    body = client.get(f"/api/v1/cases/{case.reference}/playbook/").json()
    assert body["playbook"] == "exposure" and body["steps"][0]["step"]["nist_function"] == "respond"
    task_id = body["steps"][0]["id"]
    response = client.post(f"/api/v1/cases/{case.reference}/playbook/steps/{task_id}/skip/", {"reason": "Customer did it."})
    assert response.status_code == 200 and response.json()["skip_reason"] == "Customer did it."
    assert client.get(f"/api/v1/cases/{case.reference}/playbook/").json()["deviations"][0]["id"] == task_id
