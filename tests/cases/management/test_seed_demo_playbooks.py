"""seed_demo ships the SOP: five playbooks, every demo case follows one, a case with two running clocks."""

from django.core.management import call_command

from cases.models import Case, Deadline, Playbook, PlaybookVersion


def test_seed_demo_ships_the_five_playbooks_with_steps_in_every_working_stage(db):
    call_command("seed_demo")
    assert set(Playbook.objects.values_list("slug", flat=True)) >= {
        "customer-data-exposure", "compromised-credential", "malware-provider-host",
        "researcher-vulnerability-report", "denial-of-service",
    }
    for version in PlaybookVersion.objects.all():
        assert set(version.steps.values_list("stage", flat=True)) == {"detected", "assessing", "diagnosing", "stabilizing"}
        assert version.steps.filter(mandatory=True).exists()


def test_every_demo_case_follows_a_playbook(db):
    call_command("seed_demo")
    assert not Case.objects.filter(playbook_version__isnull=True).exists()


def test_the_demo_breach_has_the_customer_notice_and_gdpr_art33_clocks_running(db):
    call_command("seed_demo")
    case = Case.objects.get(breach_declared_at__isnull=False)
    running = set(case.deadlines.filter(met_at__isnull=True).values_list("kind", flat=True))
    assert {Deadline.Kind.CUSTOMER_NOTICE, Deadline.Kind.GDPR_ART33} <= running


def test_a_second_run_adds_no_playbook_version(db):
    call_command("seed_demo")
    before = PlaybookVersion.objects.count()
    call_command("seed_demo")
    assert PlaybookVersion.objects.count() == before
