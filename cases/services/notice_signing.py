"""Signing customer notices with Ed25519, so a customer or regulator can prove what we told them and when.

A notice's *statement* is the canonical JSON (sorted keys, ``,``/``:`` without spaces, UTF-8) of
its kind, the case reference, the update's customer text, the update's publication time, the
time the notice was issued and the case's timeline head at that moment. The signature is
Ed25519 over exactly those bytes, base64-encoded; ``key`` is the first 16 hex digits of the
SHA-256 of the raw public key (the same key id as the timeline checkpoints). The key comes from
``IRT_NOTICE_KEY_FILE``, loaded by the one loader in ``timeline_checkpoints``; the public key
is served at ``/.well-known/irt-notice-signing-key.pem``.

Verifying needs no code of ours: ``Ed25519PublicKey.verify(base64decode(signature), statement)``
(README, "Signed notices").
"""

import base64
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from cases.services.timeline_checkpoints import ed25519_key_from_setting, key_id, public_key_pem

# The update fields a customer reads, in the statement under the same names as in the webhook body.
UPDATE_FIELDS = {
    "title": "public_title", "status": "status", "what_happened": "what_happened", "what_we_know": "what_we_know",
    "what_we_are_doing": "what_we_are_doing", "what_you_should_do": "what_you_should_do",
    "affected_services": "affected_services",
}


@dataclass(frozen=True)
class SignedNotice:
    statement: str
    signature: str
    key: str

    def as_dict(self) -> dict:
        return {"algorithm": "Ed25519", "key": self.key, "statement": self.statement, "signature": self.signature}


def private_key(*, create: bool | None = None) -> Ed25519PrivateKey:
    """Return the notice-signing key from ``IRT_NOTICE_KEY_FILE`` (created in development)."""
    return ed25519_key_from_setting("IRT_NOTICE_KEY_FILE", "signs customer notices",
                                    create=settings.IRT_NOTICE_KEY_CREATE if create is None else create)


def public_pem() -> bytes:
    """Return the public key customers verify notices with (PEM, SubjectPublicKeyInfo)."""
    return public_key_pem(private_key().public_key())


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign_notice(*, kind: str, case, update, issued_at, head: str) -> SignedNotice:
    """Return the signed statement of a notice about ``update`` of ``case``, issued at ``issued_at``."""
    key = private_key()
    statement = canonical({
        "kind": kind,
        "case": case.reference,
        **{name: getattr(update, field) for name, field in UPDATE_FIELDS.items()},
        "published_at": update.published_at.isoformat() if update.published_at else None,
        "issued_at": issued_at.isoformat(),
        "timeline_head": head,
        "key": key_id(key.public_key()),
    })
    signature = base64.b64encode(key.sign(statement.encode())).decode()
    return SignedNotice(statement=statement, signature=signature, key=key_id(key.public_key()))
