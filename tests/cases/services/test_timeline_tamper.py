"""An insider who owns the timeline table rewrites history: the keyed chain and the signed checkpoints find it.

Each way of tampering (issue 14, point 4) runs after a checkpoint was written, as it would in
production, and must make ``verify_timeline`` exit non-zero naming the first problem.
"""

import base64
import hashlib
import json
import os
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from cases.models import Case, TimelineEvent
from cases.models.evidence import evidence_storage
from cases.models.timeline import genesis_hash
from cases.services import timeline_checkpoints
from cases.services.timeline import add_note
from tests.factories import case_in_stage

S = Case.Status
K = TimelineEvent.Kind


@pytest.fixture(autouse=True)
def checkpoint_key(settings, tmp_path):
    """A signing key of the test's own, created on first use as in development."""
    settings.IRT_CHECKPOINT_KEY_FILE = tmp_path / "keys" / "checkpoint.pem"
    settings.IRT_CHECKPOINT_KEY_CREATE = True
    return settings.IRT_CHECKPOINT_KEY_FILE


@pytest.fixture
def checkpointed(db, manager):
    """A case in stabilizing whose head was checkpointed, ready to be tampered with."""
    case = case_in_stage(S.STABILIZING, manager=manager)
    call_command("checkpoint_timelines", stdout=StringIO())
    return Case.objects.get(pk=case.pk)


def verification_problem(*references) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_timeline", *references, stdout=StringIO())
    return str(failure.value)


def events_of(case: Case, *, newest_first: bool = False) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.filter(case=case).order_by("-sequence" if newest_first else "sequence"))


def unkeyed(event: TimelineEvent) -> str:
    """The hash an insider without the key might compute: the chain's old, unkeyed SHA-256."""
    return hashlib.sha256(event.canonical_content()).hexdigest()


def rechain(case: Case, hash_of) -> None:
    """Recompute every link and ``timeline_head`` with ``hash_of``, as a full rewrite would."""
    previous = genesis_hash(case.reference)
    for event in events_of(case):
        event.previous_hash = previous
        previous = event.hash = hash_of(event)
        TimelineEvent.objects.filter(pk=event.pk).update(previous_hash=event.previous_hash, hash=event.hash)
    Case.objects.filter(pk=case.pk).update(timeline_head=previous)


def shift_sequence(event: TimelineEvent, to: int) -> None:
    TimelineEvent.objects.filter(pk=event.pk).update(sequence=to)


# -- the ways to tamper -----------------------------------------------------------------------------


def edit(case):
    TimelineEvent.objects.filter(case=case, sequence=2).update(text="Nothing to see here.")


def delete(case):
    TimelineEvent.objects.filter(case=case, sequence=2).delete()


def insert(case):
    """Slip a forged event in after the first, moving the later ones up (highest first: sequences stay unique)."""
    *later, first = events_of(case, newest_first=True)
    for event in later:
        shift_sequence(event, event.sequence + 1)
    forged = TimelineEvent(case=case, sequence=2, at=first.at, kind=K.NOTE, text="All clear.", previous_hash=first.hash)
    forged.hash = unkeyed(forged)
    forged.save(force_insert=True)


def reorder(case):
    second, third = events_of(case)[1:3]
    shift_sequence(second, 10_000)
    shift_sequence(third, 2)
    shift_sequence(second, 3)


def cut_tail(case):
    """Drop the newest event and point ``timeline_head`` at the one before: the chain itself still holds."""
    newest, *_ = events_of(case, newest_first=True)
    TimelineEvent.objects.filter(pk=newest.pk).delete()
    rechain(case, lambda event: event.compute_hash())


def rewrite_unkeyed(case):
    edit(case)
    rechain(case, unkeyed)


def rewrite_with_a_wrong_key(case):
    edit(case)
    rechain(case, lambda event: event.compute_hash(key=b"a guess at the key"))


def rewrite_with_the_stolen_key(case):
    edit(case)
    rechain(case, lambda event: event.compute_hash())


@pytest.mark.usefixtures("tamperable")
@pytest.mark.parametrize(
    "tamper, problem",
    [
        (edit, "event #2 was altered (its content no longer matches its hash)."),
        (delete, "event #2 is missing (next stored event is #3)."),
        (insert, "event #2 was altered (its content no longer matches its hash)."),
        (reorder, "event #2 does not follow event #1 (previous hash differs)."),
        (cut_tail, "the chain ends at event #{last_but_one} but a signed checkpoint recorded {last} events."),
        (rewrite_unkeyed, "event #1 was altered (its content no longer matches its hash)."),
        (rewrite_with_a_wrong_key, "event #1 was altered (its content no longer matches its hash)."),
        (rewrite_with_the_stolen_key, "event #{last} is not the one a signed checkpoint recorded (the chain was rewritten)."),
    ],
    ids=lambda value: value.__name__ if callable(value) else "",
)
def test_verify_timeline_finds_each_way_of_tampering(tamper, problem, checkpointed):
    last = checkpointed.timeline.count()
    call_command("verify_timeline", stdout=StringIO())
    tamper(checkpointed)
    expected = problem.format(last=last, last_but_one=last - 1)
    assert verification_problem() == f"{checkpointed.reference}: {expected}"
    assert verification_problem(checkpointed.reference) == f"{checkpointed.reference}: {expected}"


@pytest.mark.usefixtures("tamperable")
def test_a_rewrite_with_the_stolen_key_after_the_last_checkpoint_passes_only_up_to_it(checkpointed, manager):
    """What checkpoints cannot cover: events newer than the last checkpoint. The period bounds that window."""
    add_note(case=checkpointed, by=manager, text="After the checkpoint.")
    newest, *_ = events_of(checkpointed, newest_first=True)
    TimelineEvent.objects.filter(pk=newest.pk).update(text="Rewritten after the checkpoint.")
    rechain(checkpointed, lambda event: event.compute_hash())
    call_command("verify_timeline", stdout=StringIO())
    call_command("checkpoint_timelines", stdout=StringIO())
    rewrite_with_the_stolen_key(checkpointed)
    assert "is not the one a signed checkpoint recorded" in verification_problem()


# -- the checkpoint log ---------------------------------------------------------------------------


def log_lines() -> list[dict]:
    storage = evidence_storage()
    _, names = storage.listdir(timeline_checkpoints.LOG_FOLDER)
    lines = []
    for name in sorted(names):
        with storage.open(f"{timeline_checkpoints.LOG_FOLDER}/{name}") as handle:
            lines += [json.loads(line) for line in handle.read().decode().splitlines()]
    return lines


def test_checkpoint_timelines_signs_each_moved_head_once(manager):
    first = case_in_stage(S.STABILIZING, manager=manager)
    second = case_in_stage(S.DETECTED, manager=manager)
    out = StringIO()
    call_command("checkpoint_timelines", stdout=out)
    assert out.getvalue().startswith("Checkpointed 2 timeline heads to timeline-checkpoints/")
    call_command("checkpoint_timelines", stdout=(out := StringIO()))
    assert out.getvalue() == "Checkpointed 0 timeline heads; 2 unchanged.\n"
    add_note(case=second, by=manager, text="Moved on.")
    call_command("checkpoint_timelines", stdout=StringIO())
    lines = log_lines()
    assert [(line["case"], line["events"]) for line in lines] == [
        (first.reference, first.timeline.count()), (second.reference, 1), (second.reference, 2)
    ]
    assert lines[-1]["head"] == Case.objects.get(pk=second.pk).timeline_head
    assert set(lines[0]) == {"case", "events", "head", "at", "key", "signature"}
    out = StringIO()
    call_command("verify_timeline", stdout=out)
    assert "2 timelines" in out.getvalue() and "3 signed checkpoints read" in out.getvalue()


def test_a_segment_of_the_log_is_written_once_and_left_read_only(checkpointed):
    storage = evidence_storage()
    _, [name] = storage.listdir(timeline_checkpoints.LOG_FOLDER)
    assert stat.S_IMODE(os.stat(storage.path(f"{timeline_checkpoints.LOG_FOLDER}/{name}")).st_mode) & 0o222 == 0


@pytest.mark.usefixtures("tamperable")
def test_a_broken_chain_is_not_signed(checkpointed, manager):
    other = case_in_stage(S.DETECTED, manager=manager)
    add_note(case=checkpointed, by=manager, text="Moved on.")
    edit(checkpointed)
    with pytest.raises(CommandError, match=f"{checkpointed.reference}: event #2 was altered"):
        call_command("checkpoint_timelines", stdout=StringIO())
    assert [line["case"] for line in log_lines()] == [checkpointed.reference, other.reference]


def test_an_altered_checkpoint_line_fails_its_signature(checkpointed):
    storage = evidence_storage()
    _, [name] = storage.listdir(timeline_checkpoints.LOG_FOLDER)
    [line] = log_lines()
    forged = {**line, "events": line["events"] - 1}
    storage.save(f"{timeline_checkpoints.LOG_FOLDER}/{name[:-6]}-forged.jsonl", ContentFile(json.dumps(forged)))
    assert "has no valid signature: the checkpoint log was altered." in verification_problem()


def test_a_checkpoint_signed_by_another_key_fails_its_signature(checkpointed, settings, tmp_path):
    settings.IRT_CHECKPOINT_KEY_FILE = tmp_path / "another.pem"
    assert f"({checkpointed.reference}) has no valid signature" in verification_problem()


def test_verify_timeline_exports_the_log_and_a_public_key_an_auditor_can_check_it_with(checkpointed, tmp_path):
    out = StringIO()
    call_command("verify_timeline", "--export", str(tmp_path / "audit"), stdout=out)
    assert "every link holds" in out.getvalue()
    exported = (tmp_path / "audit" / "timeline-checkpoints.jsonl").read_text().splitlines()
    public_key = load_pem_public_key((tmp_path / "audit" / "timeline-checkpoint-public-key.pem").read_bytes())
    [line] = [json.loads(raw) for raw in exported]
    assert (line["case"], line["head"]) == (checkpointed.reference, checkpointed.timeline_head)
    # What the README tells auditors: Ed25519 over the canonical JSON of the other fields.
    signed = {name: value for name, value in line.items() if name != "signature"}
    public_key.verify(base64.b64decode(line["signature"]),
                      json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def test_the_development_key_is_created_readable_by_its_owner_only(checkpointed, checkpoint_key):
    assert stat.S_IMODE(checkpoint_key.stat().st_mode) == 0o600


def test_without_a_key_file_and_outside_development_no_key_is_created(settings, tmp_path, manager):
    settings.IRT_CHECKPOINT_KEY_FILE = tmp_path / "missing.pem"
    settings.IRT_CHECKPOINT_KEY_CREATE = False
    case_in_stage(S.DETECTED, manager=manager)
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        call_command("checkpoint_timelines", stdout=StringIO())
    assert not (tmp_path / "missing.pem").exists()


# -- the sweeper writes checkpoints ---------------------------------------------------------------


def test_the_sweep_loop_writes_checkpoints_once_per_period(monkeypatch, checkpointed, manager):
    from notifications.management.commands import notify_sweep

    steps = []

    def run_three_times(step, **kwargs):
        for _ in range(3):
            step()
            steps.append(1)

    monkeypatch.setattr(notify_sweep, "run_forever", run_three_times)
    add_note(case=checkpointed, by=manager, text="Moved on.")
    out = StringIO()
    call_command("notify_sweep", loop=1, stdout=out)
    assert out.getvalue().count("Checkpointed 1 timeline heads; 0 unchanged; 0 broken chains left unsigned.") == 1
    assert [line["events"] for line in log_lines()] == [checkpointed.timeline.count() - 1, checkpointed.timeline.count()]


# -- configuration --------------------------------------------------------------------------------


def errors(check_id: str) -> list:
    return [message for message in run_checks() if message.id == check_id]


def test_production_refuses_a_missing_or_development_timeline_key(settings):
    settings.DEBUG = False
    for key in ("", settings.IRT_TIMELINE_DEVELOPMENT_KEY, "short"):
        settings.IRT_TIMELINE_KEY = key
        assert errors("cases.E002"), key
    settings.IRT_TIMELINE_KEY = "k" * 64
    assert errors("cases.E002") == []
    settings.DEBUG = True
    settings.IRT_TIMELINE_KEY = settings.IRT_TIMELINE_DEVELOPMENT_KEY
    assert errors("cases.E002") == []


def test_production_refuses_a_missing_checkpoint_key(settings, tmp_path, checkpoint_key):
    settings.DEBUG = False
    settings.IRT_CHECKPOINT_KEY_CREATE = False
    settings.IRT_CHECKPOINT_KEY_FILE = None
    assert errors("cases.E003")
    settings.IRT_CHECKPOINT_KEY_FILE = tmp_path / "not-a-key.pem"
    settings.IRT_CHECKPOINT_KEY_FILE.write_text("hello")
    assert "is not a PEM private key" in errors("cases.E003")[0].msg
    settings.IRT_CHECKPOINT_KEY_CREATE = True
    settings.IRT_CHECKPOINT_KEY_FILE = checkpoint_key
    assert errors("cases.E003") and not checkpoint_key.exists()  # checking never creates a key
    timeline_checkpoints.signing_key()
    assert errors("cases.E003") == []
