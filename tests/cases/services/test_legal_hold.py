"""Legal hold on a case, and the one deletion there is: an admin's purge of an item's stored bytes."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models import Case, Evidence, EvidenceAccess, TimelineEvent
from cases.services import evidence as evidence_services
from cases.services import legal_hold
from cases.selectors.timeline import first_broken_link
from tests.factories import case_in_stage

Action = EvidenceAccess.Action
MALWARE = b"MZ\x90\x00" + bytes(range(256)) * 8
HOLD_REFUSAL = "is on legal hold: nothing may be purged, not even by an admin"


pytestmark = pytest.mark.usefixtures("storage_dir")


@pytest.fixture
def item(case, responder) -> Evidence:
    return evidence_services.add_evidence(
        case=case, by=responder, content=ContentFile(MALWARE), original_name="dropper.exe", description="Sample."
    )


def hold_url(case) -> str:
    return reverse("evidence:legal-hold", args=[case.reference])


def events(case, kind):
    return TimelineEvent.objects.filter(case=case, kind=kind).order_by("sequence")


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# -- Legal hold ---------------------------------------------------------------------


def test_manager_places_and_releases_legal_hold_with_timeline_events(client, case, manager):
    client.force_login(manager)
    response = client.post(hold_url(case), {"hold": "on", "reason": "Litigation hold notice LEGAL-142."}, follow=True)
    assert f"{case.reference} is on legal hold." in messages_of(response)
    case.refresh_from_db()
    assert case.legal_hold and case.legal_hold_reason == "Litigation hold notice LEGAL-142."
    assert '<span class="badge restricted">Legal hold</span>' in response.content.decode()
    assert '<span class="badge restricted">Legal hold</span>' in client.get(case.get_absolute_url()).content.decode()

    client.post(hold_url(case), {"hold": "off", "reason": "Legal released the hold."})
    case.refresh_from_db()
    assert not case.legal_hold and case.legal_hold_reason == "Legal released the hold."
    placed, released = events(case, TimelineEvent.Kind.LEGAL_HOLD)
    assert (placed.actor, placed.data) == (manager, {"legal_hold": True, "reason": "Litigation hold notice LEGAL-142."})
    assert released.text == "Legal hold released. Reason: Legal released the hold."
    assert placed.get_kind_display() == "Legal hold changed"
    assert first_broken_link(case)[0] is None
    assert "Legal hold</span>" not in client.get(case.get_absolute_url()).content.decode()


def test_placing_a_hold_that_is_already_on_is_refused(case, manager):
    legal_hold.set_legal_hold(case=case, by=manager, hold=True, reason="LEGAL-142.")
    with pytest.raises(ActionRefused, match="already on legal hold"):
        legal_hold.set_legal_hold(case=case, by=manager, hold=True, reason="Again.")
    with pytest.raises(ActionRefused, match="already not on legal hold"):
        legal_hold.set_legal_hold(case=case_in_stage(Case.Status.DETECTED, manager=manager), by=manager,
                                         hold=False, reason="Nothing to release.")
    assert events(case, TimelineEvent.Kind.LEGAL_HOLD).count() == 1


def test_legal_hold_needs_a_reason(client, case, manager):
    with pytest.raises(ActionRefused, match="Say why"):
        legal_hold.set_legal_hold(case=case, by=manager, hold=True, reason="   ")
    client.force_login(manager)
    response = client.post(hold_url(case), {"hold": "on", "reason": ""}, follow=True)
    assert "Reason: This field is required." in messages_of(response)
    case.refresh_from_db()
    assert not case.legal_hold and not events(case, TimelineEvent.Kind.LEGAL_HOLD).exists()


def test_responder_and_comms_cannot_place_a_legal_hold(client, case, responder, comms):
    for user in (responder, comms):
        client.force_login(user)
        assert client.post(hold_url(case), {"hold": "on", "reason": "Mine."}).status_code == 403
        with pytest.raises(NotAllowed):
            legal_hold.set_legal_hold(case=case, by=user, hold=True, reason="Mine.")
    case.refresh_from_db()
    assert not case.legal_hold and not events(case, TimelineEvent.Kind.LEGAL_HOLD).exists()


def test_legal_hold_refuses_get(client, case, manager):
    client.force_login(manager)
    assert client.get(hold_url(case)).status_code == 405


def test_evidence_page_shows_the_hold_form_to_managers_only(client, case, manager, responder):
    client.force_login(responder)
    assert hold_url(case) not in client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    client.force_login(manager)
    page = client.get(reverse("evidence:list", args=[case.reference])).content.decode()
    assert f'action="{hold_url(case)}"' in page and "Place on legal hold" in page


# -- Purge --------------------------------------------------------------------------


def test_admin_purges_the_bytes_and_the_record_hashes_and_custody_stay(client, case, item, admin, manager, storage_dir):
    path = storage_dir / item.stored_name
    assert path.read_bytes() == MALWARE
    legal_hold.purge_evidence(evidence=item, by=admin, reason="Malware retention limit (90 days).")

    assert not path.exists()
    item = Evidence.objects.get(pk=item.pk)
    assert item.is_purged and item.purged_by == admin and item.purge_reason == "Malware retention limit (90 days)."
    assert (item.sha256, item.size, item.original_name) == (hashlib.sha256(MALWARE).hexdigest(), len(MALWARE), "dropper.exe")
    assert list(item.custody.values_list("action", flat=True)) == [Action.ADDED, Action.PURGED]
    purged = events(case, TimelineEvent.Kind.EVIDENCE_PURGED).get()
    assert purged.actor == admin and "Malware retention limit" in purged.text and item.sha256 in purged.text
    assert purged.get_kind_display() == "Evidence bytes purged"

    # Download: refused, saying when and why, and nothing recorded as sent.
    client.force_login(manager)
    response = client.post(reverse("evidence:download", args=[case.reference, item.pk]), follow=True)
    text = messages_of(response)
    assert f"{item.label}'s stored bytes were purged on {item.purged_at:%Y-%m-%d %H:%M} UTC by admin" in text
    assert "Malware retention limit" in text
    assert not item.custody.filter(action=Action.DOWNLOADED).exists()
    page = response.content.decode()
    assert "Bytes purged" in page and reverse("evidence:download", args=[case.reference, item.pk]) not in page

    # Verification: purged, not altered.
    with pytest.raises(ActionRefused, match="Purged, not altered"):
        evidence_services.verify_evidence(evidence=item, by=manager)
    response = client.post(reverse("evidence:verify", args=[case.reference, item.pk]), follow=True)
    assert "Purged, not altered" in messages_of(response) and "no longer matches" not in messages_of(response)
    response = client.post(reverse("evidence:verify-all", args=[case.reference]), follow=True)
    assert f"Purged, not altered: the stored bytes of {item.label} were purged" in messages_of(response)
    out = io.StringIO()
    call_command("verify_evidence", stdout=out)
    assert f"PURGED {case.reference} {item.label}" in out.getvalue()
    assert "0 evidence items: every SHA-256 matches. 1 purged item not checked." in out.getvalue()
    item.refresh_from_db()
    assert item.integrity_ok is None
    assert not events(case, TimelineEvent.Kind.EVIDENCE_MISMATCH).exists()
    assert not item.custody.filter(action=Action.MISMATCH).exists()

    # Export: listed as purged, with no file.
    response = client.post(reverse("evidence:export", args=[case.reference]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["manifest.json"]
    [entry] = json.loads(archive.read("manifest.json"))["items"]
    assert entry["purged"] is True and entry["archive_name"] is None and entry["intact"] is None
    assert entry["sha256"] == item.sha256 and entry["purged_by"] == "admin"
    assert entry["purge_reason"] == "Malware retention limit (90 days)."
    assert [step["action"] for step in entry["custody"]] == [Action.ADDED, Action.PURGED, Action.EXPORTED]
    assert not events(case, TimelineEvent.Kind.EVIDENCE_MISMATCH).exists()
    assert first_broken_link(Case.objects.get(pk=case.pk))[0] is None


def test_only_an_admin_may_purge(case, item, manager, responder, storage_dir):
    for user in (manager, responder):
        with pytest.raises(NotAllowed, match="Only an admin"):
            legal_hold.purge_evidence(evidence=item, by=user, reason="Erasure request ER-7.")
    assert (storage_dir / item.stored_name).exists()
    assert not Evidence.objects.get(pk=item.pk).is_purged


def test_purge_needs_a_reason_and_happens_once(case, item, admin, storage_dir):
    with pytest.raises(ActionRefused, match="Say why"):
        legal_hold.purge_evidence(evidence=item, by=admin, reason=" ")
    assert (storage_dir / item.stored_name).exists()
    legal_hold.purge_evidence(evidence=item, by=admin, reason="Erasure request ER-7.")
    with pytest.raises(ActionRefused, match="Already purged"):
        legal_hold.purge_evidence(evidence=item, by=admin, reason="Again.")
    assert events(case, TimelineEvent.Kind.EVIDENCE_PURGED).count() == 1


def test_admin_purge_is_refused_under_legal_hold(case, item, admin, manager, storage_dir):
    legal_hold.set_legal_hold(case=case, by=manager, hold=True, reason="Litigation hold notice LEGAL-142.")
    before = (EvidenceAccess.objects.count(), TimelineEvent.objects.count())
    with pytest.raises(ActionRefused) as refusal:
        legal_hold.purge_evidence(evidence=item, by=admin, reason="Erasure request ER-7.")
    assert f"{case.reference} {HOLD_REFUSAL}" in str(refusal.value) and "LEGAL-142" in str(refusal.value)
    assert (storage_dir / item.stored_name).read_bytes() == MALWARE
    item.refresh_from_db()
    assert (item.purged_at, item.purged_by, item.purge_reason) == (None, None, "")
    assert (EvidenceAccess.objects.count(), TimelineEvent.objects.count()) == before


def test_django_admin_purge_action_is_blocked_by_legal_hold_then_purges_once_released(
    client, case, item, admin, manager, storage_dir
):
    legal_hold.set_legal_hold(case=case, by=manager, hold=True, reason="LEGAL-142.")
    client.force_login(admin)
    changelist = reverse("admin:cases_evidence_changelist")
    action = {"action": "purge_stored_bytes", "_selected_action": [item.pk]}
    response = client.post(changelist, action, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert HOLD_REFUSAL in page and 'class="error"' in page
    assert (storage_dir / item.stored_name).exists() and not Evidence.objects.get(pk=item.pk).is_purged

    legal_hold.set_legal_hold(case=case, by=manager, hold=False, reason="Released by Legal.")
    response = client.post(changelist, action, follow=True)
    assert f"{item.label}: stored bytes purged; the record stays." in response.content.decode()
    assert not (storage_dir / item.stored_name).exists()
    item.refresh_from_db()
    assert item.purge_reason == "Purged by admin from Django admin" and item.purged_by == admin


# -- The database still keeps it write-once ------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the write-once triggers exist on PostgreSQL only")
def test_postgresql_still_refuses_delete_but_lets_the_purge_columns_change(case, item, admin):
    from django.db import DatabaseError, transaction

    legal_hold.purge_evidence(evidence=item, by=admin, reason="Erasure request ER-7.")
    # Raw SQL, past the ORM's PROTECT check, so it is the trigger that answers.
    with pytest.raises(DatabaseError, match="DELETE refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_evidence WHERE id = %s", [item.pk])
    with pytest.raises(DatabaseError, match="cannot change"), transaction.atomic():
        Evidence.objects.filter(pk=item.pk).update(sha256="0" * 64)
    assert Evidence.objects.get(pk=item.pk).is_purged
