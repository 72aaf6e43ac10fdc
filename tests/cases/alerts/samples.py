"""Alert payloads for tests: the IRT shape with sensible defaults, and the vendor samples on disk."""

import itertools
import json
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"
_refs = itertools.count(1)


def alert_payload(**overrides) -> dict:
    payload = {
        "source": "custom",
        "source_ref": f"det-{next(_refs)}",
        "title": "Impossible travel for a storage administrator",
        "severity": "high",
        "description": "Sign-ins from two continents within ten minutes.",
        "observed_at": "2026-03-02T08:00:00Z",
        "observables": [{"kind": "ip", "value": "203.0.113.10"}],
        "resources": [],
        "raw": {"rule": "impossible-travel", "score": 87},
    }
    payload.update(overrides)
    return payload


def vendor_sample(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def alert_ids(by) -> dict:
    """Ingest one waiting alert as ``by``; return the ids the authorization matrices put in URLs."""
    from cases.services.intake import ingest_alert

    alert, _ = ingest_alert(payload=alert_payload(), by=by)
    return {"ALERT": alert.pk, "GROUP": alert.group_id, "OBSERVABLE": alert.observables.get().pk}
