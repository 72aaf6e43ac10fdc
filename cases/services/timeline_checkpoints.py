"""Signed checkpoints of every case's timeline head, kept outside the database.

The keyed chain (``cases.models.timeline``) stops someone who has the database but not
``IRT_TIMELINE_KEY``. A checkpoint covers a thief of that key too: every so often
(``notify_sweep --loop``, ``manage.py checkpoint_timelines``) each case whose head moved gets one
line — reference, event count, head hash, time — signed with an Ed25519 key read from
``IRT_CHECKPOINT_KEY_FILE`` and added to the checkpoint log in the evidence storage.
``verify_timeline`` then demands that every chain still passes through every checkpointed head at
its position, so history before the last checkpoint cannot be rewritten without the signing key
and write access to the storage as well.

The log is a folder of write-once segment files (``timeline-checkpoints/<UTC time>-<random>.jsonl``),
one per run, read in name order: Django's storage API (file system, S3) can add files but cannot
append to one, and a segment once written is never opened for writing again (the evidence
storage makes its files read-only; S3 Object Lock does the same on a bucket).

A line is the JSON object ``{"at", "case", "events", "head", "key", "signature"}``; the signature
is Ed25519 over the canonical JSON (sorted keys, no spaces, UTF-8) of the other five fields,
base64-encoded, and ``key`` is the first 16 hex digits of the SHA-256 of the raw public key.
"""

import base64
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.models.evidence import evidence_storage
from cases.selectors.timeline import first_broken_link

logger = logging.getLogger(__name__)

LOG_FOLDER = "timeline-checkpoints"
EXPORTED_LOG_NAME = "timeline-checkpoints.jsonl"
EXPORTED_PUBLIC_KEY_NAME = "timeline-checkpoint-public-key.pem"


# -- the signing key --------------------------------------------------------------------------------


def signing_key(*, create: bool | None = None) -> Ed25519PrivateKey:
    """Return the private key from ``IRT_CHECKPOINT_KEY_FILE``.

    A missing file is created with a new key when ``create`` (default: ``IRT_CHECKPOINT_KEY_CREATE``,
    on in development only); the system check passes False, so checking never writes a key.
    """
    return ed25519_key_from_setting("IRT_CHECKPOINT_KEY_FILE", "signs timeline checkpoints",
                                    create=settings.IRT_CHECKPOINT_KEY_CREATE if create is None else create)


def ed25519_key_from_setting(setting: str, purpose: str, *, create: bool) -> Ed25519PrivateKey:
    """Return the Ed25519 private key in the PEM file the setting names, creating it first when ``create``.

    The one key loader: the checkpoint key and the notice-signing key (cases/services/notice_signing.py).
    """
    path = getattr(settings, setting)
    if path is None:
        raise ImproperlyConfigured(f"{setting} is not set; it names the Ed25519 key that {purpose}.")
    path = Path(path)
    if not path.exists() and create:
        _create_key_file(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ImproperlyConfigured(f"{setting}={str(path)!r} cannot be read: {exc.strerror}") from exc
    except ValueError:
        raise ImproperlyConfigured(f"{setting}={str(path)!r} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{setting}={str(path)!r} is not an Ed25519 key")
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    logger.warning("Created a development Ed25519 key at %s.", path)


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Name the key in each line, so an auditor holding several public keys knows which one applies."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- one line of the log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    case: str
    events: int
    head: str
    at: str
    key: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        unsigned = {name: value for name, value in asdict(self).items() if name != "signature"}
        return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def signed_with(self, private_key: Ed25519PrivateKey) -> "Checkpoint":
        signature = base64.b64encode(private_key.sign(self.signed_bytes())).decode()
        return Checkpoint(**{**asdict(self), "signature": signature})

    def has_valid_signature(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


# -- reading the log --------------------------------------------------------------------------------


@dataclass
class CheckpointLog:
    """What the log says: per case reference, the head hash recorded at each event count."""

    heads: dict[str, dict[int, str]] = field(default_factory=dict)
    lines: int = 0
    problem: str | None = None


def _segment_names() -> list[str]:
    try:
        _, files = evidence_storage().listdir(LOG_FOLDER)
    except FileNotFoundError:  # the file system storage before the first checkpoint
        return []
    return sorted(name for name in files if name.endswith(".jsonl"))


def _raw_lines() -> Iterator[tuple[str, int, str]]:
    """Yield (segment, line number, text) for every line of the log, oldest segment first."""
    storage = evidence_storage()
    for name in _segment_names():
        with storage.open(f"{LOG_FOLDER}/{name}", "rb") as handle:
            for number, raw in enumerate(handle.read().decode("utf-8").splitlines(), start=1):
                if raw.strip():
                    yield name, number, raw


def read_log() -> CheckpointLog:
    """Read and check every line; stop at the first that does not parse, verify or agree with the others."""
    log = CheckpointLog()
    public_key = None
    for segment, number, raw in _raw_lines():
        where = f"{LOG_FOLDER}/{segment} line {number}"
        try:
            checkpoint = Checkpoint(**json.loads(raw))
        except (ValueError, TypeError):
            log.problem = f"{where} is not a checkpoint."
            return log
        # The key is needed only once there is something to check, so a fresh install needs none.
        public_key = public_key or signing_key().public_key()
        if not checkpoint.has_valid_signature(public_key):
            log.problem = f"{where} ({checkpoint.case}) has no valid signature: the checkpoint log was altered."
            return log
        recorded = log.heads.setdefault(checkpoint.case, {})
        if recorded.setdefault(checkpoint.events, checkpoint.head) != checkpoint.head:
            log.problem = f"{where} signs a different head for {checkpoint.case} at event #{checkpoint.events} than an earlier line."
            return log
        log.lines += 1
    return log


def export_log(directory: Path) -> tuple[Path, Path]:
    """Write the whole log as one JSON-lines file and the public key (PEM) into ``directory`` for auditors."""
    directory.mkdir(parents=True, exist_ok=True)
    log_path, key_path = directory / EXPORTED_LOG_NAME, directory / EXPORTED_PUBLIC_KEY_NAME
    with log_path.open("w", encoding="utf-8") as handle:
        for _, _, raw in _raw_lines():
            handle.write(raw + "\n")
    key_path.write_bytes(public_key_pem(signing_key().public_key()))
    return log_path, key_path


# -- writing checkpoints ----------------------------------------------------------------------------


@dataclass
class CheckpointRun:
    written: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    segment: str | None = None


def write_checkpoints(*, now=None) -> CheckpointRun:
    """Sign the head of every case whose timeline moved since its last checkpoint; add them as one segment.

    A chain is verified (keyed hashes and earlier checkpoints) before its head is signed: signing
    a tampered chain would bless the tampering. Such a case is left out and reported instead.
    """
    now = now or timezone.now()
    log = read_log()
    run = CheckpointRun()
    private_key = None
    checkpoints = []
    for pk, reference, head in Case.objects.exclude(timeline_head="").order_by("pk").values_list("pk", "reference", "timeline_head"):
        recorded = log.heads.get(reference, {})
        if recorded and recorded[max(recorded)] == head:
            run.unchanged += 1
            continue
        # The row lock keeps an event from landing between reading the head and walking the chain.
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=pk)
            problem, events = first_broken_link(case, checkpoints=recorded)
        if problem:
            logger.error("Timeline of %s not checkpointed: %s", reference, problem)
            run.refused.append(f"{reference}: {problem}")
            continue
        private_key = private_key or signing_key()
        unsigned = Checkpoint(case=reference, events=events, head=case.timeline_head,
                              at=now.isoformat(timespec="microseconds"), key=key_id(private_key.public_key()))
        checkpoints.append(unsigned.signed_with(private_key))
    if checkpoints:
        name = f"{LOG_FOLDER}/{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.jsonl"
        run.segment = evidence_storage().save(name, ContentFile("".join(c.as_line() for c in checkpoints).encode()))
        run.written = len(checkpoints)
    return run
