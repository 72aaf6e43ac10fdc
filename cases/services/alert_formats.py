"""What an alert looks like on the wire: the IRT shape, vendor shapes mapped onto it, and the checks.

``validate_alert`` turns one IRT-shaped payload (the body of ``POST /api/v1/alerts/``) into an
``AlertData`` or raises ``AlertRejected`` with an error per field, so every way in (API, signed
intake, admin, seed data) refuses the same inputs. ``from_sentinel`` and ``from_ocsf`` map a
Microsoft Sentinel incident and an OCSF Detection Finding onto the IRT shape first.
"""

import ipaddress
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_datetime

from cases.models import Alert, Case, Observable

MAX_RESOURCES = 100
FIELDS = {"source", "source_ref", "title", "severity", "description", "observed_at", "correlation_key",
          "observables", "resources", "raw"}
HASH_LENGTHS = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}
_HEX = re.compile(r"^[0-9a-f]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_AZURE_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
_GCP_PROJECT = re.compile(r"(?:^|/)projects/([^/]+)")
# Text may hold tabs and line breaks (descriptions); identifiers may hold neither.
_TEXT_ALLOWED = {"\t", "\n", "\r"}


class AlertRejected(ValueError):
    """The payload is not an alert IRT can store; ``errors`` maps a field path to its problems."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in errors.items()))


@dataclass
class AlertData:
    source: str
    source_ref: str
    title: str
    severity: str
    description: str
    observed_at: datetime
    correlation_key: str
    observables: list[tuple[str, str]] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)  # (resource id, tenant id)
    raw: object = None
    raw_size: int = 0


# -- observables and resources -------------------------------------------------------------

def normalise_observable(kind: str, value: str) -> str:
    """Return the canonical spelling of an observable, or raise ``ValueError`` saying why it is not one."""
    value = value.strip()
    if not value:
        raise ValueError("is empty.")
    if kind == Observable.Kind.IP:
        try:
            address = ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            raise ValueError(f"{value[:80]!r} is not an IP address.") from None
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    if kind == Observable.Kind.DOMAIN:
        return _normalise_domain(value)
    if kind == Observable.Kind.URL:
        return _normalise_url(value)
    if kind == Observable.Kind.FILE_HASH:
        digest = value.lower()
        if not _HEX.match(digest) or len(digest) not in HASH_LENGTHS:
            raise ValueError("is not an MD5, SHA-1, SHA-256 or SHA-512 hex digest.")
        return digest
    if kind == Observable.Kind.EMAIL:
        address = value.lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"{value[:80]!r} is not an email address.") from None
        return address
    if kind == Observable.Kind.USER_ACCOUNT:
        # Directory account names (UPNs, DOMAIN\\user, cloud principals) compare case-insensitively.
        return value.lower()
    if kind == Observable.Kind.CLOUD_RESOURCE:
        # Azure resource ids are case-insensitive; ARNs and other ids are kept as sent.
        return value.lower() if _AZURE_SUBSCRIPTION.match(value) else value
    raise ValueError(f"unknown kind {kind!r}.")


def _normalise_domain(value: str) -> str:
    name = value.rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{value[:80]!r} is not a domain name.") from None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value[:80]!r} is not a domain name.")
    return name


def _normalise_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"{value[:80]!r} is not a URL.") from None
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"{value[:80]!r} is not an absolute URL.")
    scheme = parts.scheme.lower()
    host = parts.hostname
    try:
        host = str(ipaddress.ip_address(host))
        host = f"[{host}]" if ":" in host else host
    except ValueError:
        host = _normalise_domain(host) if "." in host else host.lower()
    default = {"http": 80, "https": 443, "ftp": 21}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def tenant_of(resource_id: str) -> str:
    """Return the tenant, subscription, account or project an id names (lower-case), or ``""``."""
    resource_id = resource_id.strip()
    match = _AZURE_SUBSCRIPTION.match(resource_id)
    if match:
        return match.group(1).lower()
    if resource_id.startswith("arn:"):
        parts = resource_id.split(":", 5)
        return parts[4].lower() if len(parts) > 4 else ""
    match = _GCP_PROJECT.search(resource_id)
    if match:
        return match.group(1).lower()
    # A bare id (a subscription GUID, an account number, a tenant id) names the tenant itself.
    if "/" not in resource_id and ":" not in resource_id:
        return resource_id.lower()[:200]
    return ""


# -- validation ----------------------------------------------------------------------------

def _text(errors, name, value, *, max_length, required=True, multiline=False) -> str:
    if value == "" or (value is None and required):
        if required:
            errors.setdefault(name, []).append("This field is required.")
        return ""
    if not isinstance(value, str):
        errors.setdefault(name, []).append("Must be a string.")
        return ""
    if len(value) > max_length:
        errors.setdefault(name, []).append(f"At most {max_length} characters (got {len(value)}).")
        return ""
    problem = _bad_characters(value, multiline=multiline)
    if problem:
        errors.setdefault(name, []).append(problem)
        return ""
    return value.strip() if not multiline else value


# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) and surrogates (Cs), as one
# character class: a regular expression scans a 10 MB description in C, a loop over characters does not.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_OR_SURROGATE_IN_TEXT = re.compile(
    "[" + "".join(f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) not in _TEXT_ALLOWED)
    + "\ud800-\udfff]")


def _bad_characters(value: str, *, multiline: bool = False) -> str:
    found = (_CONTROL_OR_SURROGATE_IN_TEXT if multiline else _CONTROL_OR_SURROGATE).search(value)
    if found is None:
        return ""
    if "\ud800" <= found.group() <= "\udfff":
        return "Contains an unpaired surrogate; send valid UTF-8."
    return f"Contains the control character U+{ord(found.group()):04X}."


def _check_raw(value, depth=0) -> str:
    """Return why ``raw`` cannot be stored (NUL and lone surrogates break PostgreSQL's JSON), or ``""``."""
    if depth > 64:
        return "Nested too deeply."
    if isinstance(value, str):
        if "\x00" in value or any(unicodedata.category(c) == "Cs" for c in value if "\ud800" <= c <= "\udfff"):
            return "Contains a NUL character or an unpaired surrogate."
        return ""
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _check_raw(key, depth + 1) or _check_raw(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _check_raw(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, float) and value != value:
        return "Contains NaN."
    return ""


# Read once: Django rebuilds a choices enum's ``values`` list on every access, and intake asks per alert.
SOURCES = frozenset(Alert.Source.values)
SEVERITIES = frozenset(Case.Severity.values)
OBSERVABLE_KINDS = frozenset(Observable.Kind.values)


def _one_of(value, allowed: frozenset) -> bool:
    """Whether a value from JSON is one of the allowed strings (a list or an object is not, nor hashable)."""
    return isinstance(value, str) and value in allowed


def validate_alert(payload) -> AlertData:
    """Return the alert the payload describes, or raise ``AlertRejected`` naming every problem."""
    if not isinstance(payload, dict):
        raise AlertRejected({"": ["An alert is a JSON object."]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        errors["_unknown"] = [f"Unknown field(s): {', '.join(str(u)[:40] for u in unknown[:10])}."]
    source = payload.get("source")
    if not _one_of(source, SOURCES):
        errors["source"] = [f"One of {', '.join(Alert.Source.values)}."]
    source_ref = _text(errors, "source_ref", payload.get("source_ref"), max_length=200)
    title = _text(errors, "title", payload.get("title"), max_length=300)
    severity = payload.get("severity")
    if not _one_of(severity, SEVERITIES):
        errors["severity"] = [f"One of {', '.join(Case.Severity.values)}."]
    description = _text(errors, "description", payload.get("description", ""), required=False, multiline=True,
                        max_length=settings.IRT_ALERT_DESCRIPTION_MAX_CHARS)
    correlation_key = _text(errors, "correlation_key", payload.get("correlation_key", ""), required=False, max_length=200)
    observed_at = _datetime(errors, payload.get("observed_at"))
    observables = _observables(errors, payload.get("observables", []))
    resources = _resources(errors, payload.get("resources", []))
    raw = payload.get("raw")
    raw_size = 0
    if raw is not None:
        problem = _check_raw(raw)
        if problem:
            errors["raw"] = [problem]
        else:
            raw_size = len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode())
            if raw_size > settings.IRT_ALERT_RAW_MAX_BYTES:
                raw = None  # kept out, its size recorded: the alert itself must not be lost
    if errors:
        raise AlertRejected(errors)
    return AlertData(source=source, source_ref=source_ref, title=title, severity=severity, description=description,
                     observed_at=observed_at, correlation_key=correlation_key, observables=observables,
                     resources=resources, raw=raw, raw_size=raw_size)


def _datetime(errors, value) -> datetime | None:
    if not isinstance(value, str) or not value:
        errors["observed_at"] = ["An ISO 8601 date and time with a UTC offset, e.g. 2026-03-01T12:00:00Z."]
        return None
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors["observed_at"] = ["An ISO 8601 date and time with a UTC offset, e.g. 2026-03-01T12:00:00Z."]
        return None
    if not 1970 <= moment.year <= 9000:
        errors["observed_at"] = ["Out of range."]
        return None
    return moment.astimezone(dt_timezone.utc)


def _bounded_list(errors, name: str, value, *, limit: int, items: str) -> list:
    """Return ``value`` when it is a list of at most ``limit`` ``items``; else record why under ``name`` and return []."""
    if not isinstance(value, list):
        errors[name] = [f"A list of {items}."]
        return []
    if len(value) > limit:
        errors[name] = [f"At most {limit} {name} per alert (got {len(value)})."]
        return []
    return value


def _observables(errors, value) -> list[tuple[str, str]]:
    value = _bounded_list(
        errors, "observables", value, limit=settings.IRT_ALERT_MAX_OBSERVABLES, items='{"kind", "value"} objects'
    )
    found: dict[tuple[str, str], None] = {}
    for index, item in enumerate(value):
        path = f"observables.{index}"
        if not isinstance(item, dict) or set(item) - {"kind", "value"}:
            errors[path] = ["An object with \"kind\" and \"value\"."]
            continue
        kind, text = item.get("kind"), item.get("value")
        if not _one_of(kind, OBSERVABLE_KINDS):
            errors[f"{path}.kind"] = [f"One of {', '.join(Observable.Kind.values)}."]
            continue
        if not isinstance(text, str) or len(text) > 2048:
            errors[f"{path}.value"] = ["A string of at most 2048 characters."]
            continue
        problem = _bad_characters(text)
        if problem:
            errors[f"{path}.value"] = [problem]
            continue
        try:
            found[(kind, normalise_observable(kind, text))] = None
        except ValueError as exc:
            errors[f"{path}.value"] = [f"The value {exc}" if str(exc).startswith("is ") else str(exc)]
    return list(found)


def _resources(errors, value) -> list[tuple[str, str]]:
    value = _bounded_list(
        errors, "resources", value, limit=MAX_RESOURCES, items='resource ids, or of {"id", "tenant_id"} objects'
    )
    found: dict[tuple[str, str], None] = {}
    for index, item in enumerate(value):
        path = f"resources.{index}"
        tenant = None
        if isinstance(item, dict):
            if set(item) - {"id", "tenant_id"}:
                errors[path] = ["An object with \"id\" and an optional \"tenant_id\"."]
                continue
            item, tenant = item.get("id"), item.get("tenant_id", "")
            if not isinstance(tenant, str) or len(tenant) > 200 or _bad_characters(tenant):
                errors[f"{path}.tenant_id"] = ["A string of at most 200 characters without control characters."]
                continue
        if not isinstance(item, str) or not item.strip() or len(item) > 1000 or _bad_characters(item):
            errors[path] = ["A resource id: a non-empty string of at most 1000 characters without control characters."]
            continue
        resource = item.strip()
        found[(resource, (tenant or "").strip().lower() or tenant_of(resource))] = None
    return list(found)


# -- vendor shapes -------------------------------------------------------------------------

SENTINEL_SEVERITY = {"high": "high", "medium": "medium", "low": "low", "informational": "low"}


def from_sentinel(payload) -> dict:
    """Map a Microsoft Sentinel incident onto the IRT shape.

    Accepts the body of the Logic App "Microsoft Sentinel incident" trigger (the incident under
    ``object``) and a bare incident resource (``properties`` at the top), as automation rules and
    the REST API send it. The payload is kept as ``raw``.
    """
    if not isinstance(payload, dict):
        raise AlertRejected({"": ["A Microsoft Sentinel incident is a JSON object."]})
    incident = payload.get("object") if isinstance(payload.get("object"), dict) else payload
    props = incident.get("properties")
    if not isinstance(props, dict):
        raise AlertRejected({"properties": ["A Sentinel incident has \"properties\" (under \"object\" from a Logic App)."]})
    number = props.get("incidentNumber")
    source_ref = incident.get("name") or (str(number) if isinstance(number, int) else None)
    severity = props.get("severity")
    observables, resources = _sentinel_entities(props.get("relatedEntities") or [])
    additional = props.get("additionalData") if isinstance(props.get("additionalData"), dict) else {}
    description = props.get("description") or ""
    if isinstance(description, str) and additional.get("tactics") and isinstance(additional["tactics"], list):
        description = (description + "\n\nTactics: " + ", ".join(str(t) for t in additional["tactics"])).strip()
    return {
        "source": Alert.Source.SENTINEL,
        "source_ref": source_ref,
        "title": props.get("title"),
        "severity": SENTINEL_SEVERITY.get(severity.lower(), severity) if isinstance(severity, str) else severity,
        "description": description,
        "observed_at": props.get("firstActivityTimeUtc") or props.get("createdTimeUtc"),
        "observables": observables,
        "resources": resources,
        "raw": payload,
    }


def _sentinel_entities(entities) -> tuple[list[dict], list]:
    observables: list[dict] = []
    resources: list = []
    if not isinstance(entities, list):
        return observables, resources
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("properties"), dict):
            continue
        kind, props = str(entity.get("kind", "")).lower(), entity["properties"]
        if kind == "ip" and props.get("address"):
            observables.append({"kind": "ip", "value": props["address"]})
        elif kind == "url" and props.get("url"):
            observables.append({"kind": "url", "value": props["url"]})
        elif kind == "filehash" and props.get("hashValue"):
            observables.append({"kind": "file_hash", "value": props["hashValue"]})
        elif kind in ("dnsresolution", "dns") and props.get("domainName"):
            observables.append({"kind": "domain", "value": props["domainName"]})
        elif kind == "mailbox" and props.get("mailboxPrimaryAddress"):
            observables.append({"kind": "email", "value": props["mailboxPrimaryAddress"]})
        elif kind == "account" and props.get("accountName"):
            suffix = props.get("upnSuffix")
            observables.append({"kind": "user_account", "value": f"{props['accountName']}@{suffix}" if suffix else props["accountName"]})
        elif kind == "azureresource" and props.get("resourceId"):
            observables.append({"kind": "cloud_resource", "value": props["resourceId"]})
            resources.append(props["resourceId"])
        elif kind == "host":
            if props.get("azureID"):
                resources.append(props["azureID"])
            if props.get("hostName") and props.get("dnsDomain"):
                observables.append({"kind": "domain", "value": f"{props['hostName']}.{props['dnsDomain']}"})
    return observables, resources


OCSF_DETECTION_FINDING = 2004
# OCSF severity_id: 0 unknown, 1 informational, 2 low, 3 medium, 4 high, 5 critical, 6 fatal, 99 other.
OCSF_SEVERITY = {0: "low", 1: "low", 2: "low", 3: "medium", 4: "high", 5: "critical", 6: "critical", 99: "medium"}
# OCSF observable type_id → IRT kind; other types stay in ``raw``.
OCSF_OBSERVABLE = {1: "domain", 2: "ip", 4: "user_account", 5: "email", 6: "url", 8: "file_hash", 10: "cloud_resource",
                   23: "url"}


def from_ocsf(payload) -> dict:
    """Map an OCSF Detection Finding (class_uid 2004) onto the IRT shape."""
    if not isinstance(payload, dict):
        raise AlertRejected({"": ["An OCSF finding is a JSON object."]})
    if payload.get("class_uid") != OCSF_DETECTION_FINDING:
        raise AlertRejected({"class_uid": [f"Only Detection Finding ({OCSF_DETECTION_FINDING}) is accepted."]})
    info = payload.get("finding_info") if isinstance(payload.get("finding_info"), dict) else {}
    severity_id = payload.get("severity_id")
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    cloud = payload.get("cloud") if isinstance(payload.get("cloud"), dict) else {}
    cloud_account = (cloud.get("account") or {}).get("uid") if isinstance(cloud.get("account"), dict) else None
    observables = [
        {"kind": OCSF_OBSERVABLE[item["type_id"]], "value": item.get("value")}
        for item in payload.get("observables") or []
        if isinstance(item, dict) and item.get("type_id") in OCSF_OBSERVABLE and isinstance(item.get("value"), str)
    ] if isinstance(payload.get("observables"), list) else payload.get("observables")
    resources = []
    listed = payload.get("resources") if isinstance(payload.get("resources"), list) else []
    for item in listed:
        if isinstance(item, dict) and isinstance(item.get("uid"), str):
            account = item.get("account") if isinstance(item.get("account"), dict) else {}
            tenant = account.get("uid") or cloud_account
            resources.append({"id": item["uid"], "tenant_id": str(tenant)} if tenant else item["uid"])
    return {
        "source": Alert.Source.OCSF,
        "source_ref": info.get("uid"),
        "title": info.get("title"),
        "severity": OCSF_SEVERITY.get(severity_id, severity_id) if isinstance(severity_id, int) else severity_id,
        "description": info.get("desc") or payload.get("message") or "",
        "observed_at": _epoch_ms(payload.get("time")),
        "correlation_key": metadata.get("correlation_uid") or "",
        "observables": observables,
        "resources": resources,
        "raw": payload,
    }


def _epoch_ms(value):
    """OCSF times are milliseconds since the epoch; return ISO 8601, or the value for the checks to refuse."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253_402_300_800_000:
        return datetime.fromtimestamp(value / 1000, tz=dt_timezone.utc).isoformat()
    return value
