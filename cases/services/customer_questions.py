"""Questions and files from a customer's incident page, and the replies that answer them.

A customer user of an organisation that reads the incident (``customer_incidents``) may ask a
question or send a file; both are bounded (text length, a day's count per organisation, file size
and type) and both are timeline events. A file is stored as evidence through
``cases.services.evidence.add_evidence``, so it is hashed while it streams, stored under a
server-generated name and gets a custody record naming the customer user.

Staff who work the case answer with a written reply or by pointing at an approved update. The
first written reply to an organisation on a declared breach waits for a second person
(``reply_needs_second_person``); the customer reads a reply only once it is published.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cases.access.querysets import customer_incidents
from cases.models import AffectedCustomer, Case, Evidence, IncidentUpdate, Organization, TimelineEvent
from cases.models.exceptions import ActionRefused, NotAllowed
from cases.models.questions import CustomerQuestion, CustomerUpload, QuestionReply
from cases.services import evidence as evidence_services
from cases.services import signals
from cases.services.approval import ensure_may_approve, stamp_approval
from cases.services.timeline import append_event, lock_case, lock_for_work
from irt.sizes import byte_size

Kind = TimelineEvent.Kind

MAX_QUESTION_CHARS = 4000
MAX_REPLY_CHARS = 10000
# Per organisation, over the last 24 hours, across all its incidents.
QUESTIONS_PER_DAY = 20
UPLOADS_PER_DAY = 10
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
DAY = timedelta(hours=24)

# What a customer may send: logs and exports we ask for. Text is checked as text, archives and
# captures by their first bytes, so a renamed executable or web page is refused whatever its name.
TEXT_SUFFIXES = (".txt", ".log", ".json", ".jsonl", ".ndjson", ".csv", ".tsv")
BINARY_SIGNATURES = {
    ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
    ".gz": (b"\x1f\x8b",),
    ".tgz": (b"\x1f\x8b",),
    ".7z": (b"7z\xbc\xaf\x27\x1c",),
    ".xz": (b"\xfd7zXZ\x00",),
    ".bz2": (b"BZh",),
    ".pcap": (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"),
    ".cap": (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"),
    ".pcapng": (b"\x0a\x0d\x0d\x0a",),
}
ALLOWED_SUFFIXES = (*TEXT_SUFFIXES, *BINARY_SIGNATURES)
# First bytes of programs and of documents a browser would run, whatever the file is called.
EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
MARKUP_PREFIXES = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe")
SNIFF_BYTES = 8192


def allowed_types_text() -> str:
    """Return the accepted file name endings, for forms and refusals."""
    return ", ".join(ALLOWED_SUFFIXES)


def _suffix(name: str) -> str:
    lowered = (name or "").lower()
    return next((suffix for suffix in sorted(ALLOWED_SUFFIXES, key=len, reverse=True) if lowered.endswith(suffix)), "")


def refuse_file_type(*, original_name: str, head: bytes) -> None:
    """Refuse a file whose name or first bytes are not a log, export, capture or archive we accept."""
    suffix = _suffix(original_name)
    if not suffix:
        raise ActionRefused(f"Send logs, exports, captures or archives only (names ending {allowed_types_text()}). Nothing was stored.")
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise ActionRefused("The file looks like a program, which is never accepted here. Nothing was stored.")
    if suffix in BINARY_SIGNATURES:
        if head and not head.startswith(BINARY_SIGNATURES[suffix]):
            raise ActionRefused(f"The file is named {suffix} but its content is not. Nothing was stored.")
        return
    if b"\x00" in head:
        raise ActionRefused(f"A {suffix} file must be text; this one is not. Nothing was stored.")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(MARKUP_PREFIXES):
        raise ActionRefused("Web pages and markup are not accepted; send the log or export itself. Nothing was stored.")


def _ensure_reads_incident(case: Case, by) -> None:
    """Refuse ``by`` unless they are a customer user whose organisation reads ``case``'s incident page."""
    if not customer_incidents(by).filter(pk=case.pk).exists():
        raise NotAllowed("Your organisation does not read this incident.")


def _ensure_within_day(recent, *, organization: Organization, limit: int, what: str) -> None:
    """Lock the organisation, so concurrent sends count in turn, then refuse when ``recent`` holds ``limit`` rows.

    ``recent`` is the organisation's rows of the last day, evaluated only once the lock is held.
    """
    with transaction.atomic():  # a lock needs a transaction: the pre-check before streaming runs outside one
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        sent = recent.count()
    if sent >= limit:
        raise ActionRefused(f"{organization.name} has sent {limit} {what} in the last 24 hours, the most we accept; "
                            "try again later or reply to our email.")


@transaction.atomic
def ask_question(*, case: Case, by, text: str) -> CustomerQuestion:
    """Record ``by``'s question on the incident page and tell the case's team."""
    text = (text or "").strip()
    if not text:
        raise ActionRefused("Write your question.")
    if len(text) > MAX_QUESTION_CHARS:
        raise ActionRefused(f"Keep a question under {MAX_QUESTION_CHARS:,} characters (this one has {len(text):,}); "
                            "send longer material as a file.")
    locked = lock_case(case)
    _ensure_reads_incident(locked, by)
    organization = by.organization
    _ensure_within_day(CustomerQuestion.objects.filter(organization=organization, asked_at__gte=timezone.now() - DAY),
                       organization=organization, limit=QUESTIONS_PER_DAY, what="questions")
    question = CustomerQuestion.objects.create(case=locked, organization=organization, asked_by=by, text=text)
    append_event(
        case=locked, actor=by, kind=Kind.QUESTION_ASKED,
        text=f"{organization.name} asked (question Q-{question.pk}): {text}",
        data={"question": question.pk, "organization": organization.pk},
    )
    signals.customer_question_asked.send(sender=Case, case=locked, question=question, by=by)
    return question


def upload_file(*, case: Case, by, content, original_name: str) -> Evidence:
    """Store a customer's file as evidence on the case, with a custody record naming them.

    Refused before a byte reaches the evidence storage when the name, the first bytes or the size
    are wrong, or the organisation sent its day's share already.
    """
    _ensure_reads_incident(case, by)
    content.seek(0)
    refuse_file_type(original_name=original_name, head=content.read(SNIFF_BYTES))
    content.seek(0)
    size = getattr(content, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ActionRefused(f"The file is larger than the limit of {byte_size(MAX_UPLOAD_BYTES)}; nothing was stored.")
    organization = by.organization

    def may_add(locked, user):
        _ensure_reads_incident(locked, user)
        _ensure_within_day(CustomerUpload.objects.filter(organization=organization, uploaded_at__gte=timezone.now() - DAY),
                           organization=organization, limit=UPLOADS_PER_DAY, what="files")

    def then(locked, evidence, event):
        CustomerUpload.objects.create(evidence=evidence, case=locked, organization=organization, uploaded_by=by,
                                      uploaded_at=evidence.uploaded_at)
        signals.customer_file_uploaded.send(sender=Case, case=locked, evidence=evidence, by=by)

    return evidence_services.add_evidence(
        case=case, by=by, content=content, original_name=original_name,
        description=f"Sent by {by.get_username()} of {organization.name} from the incident page.",
        collected_by=f"{by.display_name} ({organization.name})", may_add=may_add, then=then,
    )


def reply_needs_second_person(*, case: Case, organization) -> bool:
    """Return whether a written reply to ``organization`` on ``case`` waits for a second person.

    The first written reply to an organisation on a declared breach does: it may be read as part of
    the breach notice. Later replies, and replies that only point at an approved update, do not.
    """
    if case.breach_declared_at is None:
        return False
    return not (QuestionReply.objects.published().exclude(text="")
                .filter(question__case=case, question__organization=organization).exists())


def _ensure_organization_reads(case: Case, organization) -> None:
    if not AffectedCustomer.objects.filter(case=case).visible_to(organization).exists():
        raise ActionRefused(f"{organization.name} no longer reads this incident; a reply would not reach it.")


@transaction.atomic
def reply_to_question(*, question: CustomerQuestion, by, text: str = "", update: IncidentUpdate | None = None) -> QuestionReply:
    """Answer ``question`` in writing or by pointing at an approved update; publish it unless it needs a second person."""
    locked = lock_for_work(question.case, by)
    text = (text or "").strip()
    if not text and update is None:
        raise ActionRefused("Write a reply or choose an approved update that answers the question.")
    if len(text) > MAX_REPLY_CHARS:
        raise ActionRefused(f"Keep a reply under {MAX_REPLY_CHARS:,} characters (this one has {len(text):,}).")
    if update is not None and (update.case_id != locked.pk or not update.is_published):
        raise ActionRefused("Point only at an approved update of this incident.")
    question = CustomerQuestion.objects.select_related("organization").get(pk=question.pk, case=locked)
    _ensure_organization_reads(locked, question.organization)
    needs = bool(text) and reply_needs_second_person(case=locked, organization=question.organization)
    now = timezone.now()
    reply = QuestionReply.objects.create(question=question, text=text, update=update, author=by, created_at=now,
                                         needs_approval=needs, published_at=None if needs else now)
    answer = f" Pointed at the update \u201c{update.public_title}\u201d." if update is not None else ""
    data = {"question": question.pk, "reply": reply.pk, "organization": question.organization_id,
            "update": update.pk if update is not None else None}
    if needs:
        append_event(case=locked, actor=by, kind=Kind.QUESTION_REPLY_DRAFTED, data=data,
                     text=f"Reply to {question.organization.name}'s question Q-{question.pk} drafted; the first reply on a "
                          f"breach waits for a second person before {question.organization.name} reads it: {text}{answer}")
        signals.question_reply_drafted.send(sender=Case, case=locked, reply=reply, by=by)
    else:
        _record_answer(case=locked, reply=reply, by=by, data=data, detail=f"{text}{answer}".strip())
    return reply


@transaction.atomic
def approve_reply(*, reply: QuestionReply, by) -> QuestionReply:
    """Approve a reply that waits for a second person, which publishes it to the asking organisation."""
    locked = lock_case(reply.question.case)
    ensure_may_approve(locked, by, "Only the case's incident managers and Communications approve replies to customers.")
    reply = QuestionReply.objects.select_for_update().select_related("question__organization").get(pk=reply.pk, question__case=locked)
    if not reply.needs_approval:
        raise ActionRefused("This reply needed no approval; the customer already reads it.")
    _ensure_organization_reads(locked, reply.question.organization)
    stamp_approval(reply, by, already="This reply was already approved.", made_it="The author of a reply cannot approve it.")
    reply.published_at = reply.approved_at
    reply.save(update_fields=["published_at"])
    data = {"question": reply.question_id, "reply": reply.pk, "organization": reply.question.organization_id,
            "approved_by": by.pk}
    _record_answer(case=locked, reply=reply, by=by, data=data,
                   detail=f"Reply R-{reply.pk} by {reply.author.get_username()} approved by {by.get_username()}.")
    return reply


def _record_answer(*, case: Case, reply: QuestionReply, by, data: dict, detail: str) -> None:
    question = reply.question
    append_event(case=case, actor=by, kind=Kind.QUESTION_ANSWERED, data=data,
                 text=f"{question.organization.name}'s question Q-{question.pk} answered: {detail}")
    signals.question_answered.send(sender=Case, case=case, reply=reply, by=by)
