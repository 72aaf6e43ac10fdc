"""Request bodies: strict JSON within a size limit, and multipart through Django's upload handlers.

A view may set ``max_body_bytes``; otherwise ``DATA_UPLOAD_MAX_MEMORY_SIZE`` applies. An oversized
body is a 413 before it is parsed. JSON with duplicate keys, NaN/Infinity or nesting deeper than 64 is
malformed (400): a duplicate key silently loses one value. Text with NUL or a lone surrogate is
valid JSON that IRT cannot store faithfully (PostgreSQL text refuses NUL, UTF-8 has no lone
surrogates): it is refused with 422 naming the fields, and nothing is stored.
"""

import json
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from cases.api.problems import PayloadTooLarge, Problem

CONTROL_CHARACTERS = "control characters are not allowed"


def body_limit(view) -> int:
    limit = getattr(view, "max_body_bytes", None)
    return limit if limit is not None else (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ParseError(f"JSON parse error - duplicate key {key!r}.")
        seen[key] = value
    return seen


def _refuse_constant(name):
    raise ParseError(f"JSON parse error - {name} is not a JSON number.")


def _check_text(value, errors: dict, path: str = "", depth: int = 0) -> None:
    """Collect, per field path (``alerts.3.title``), the strings holding NUL or a lone surrogate."""
    if depth > 64:
        raise ParseError("JSON parse error - nested too deeply.")
    if isinstance(value, str):
        if not _storable(value):
            errors.setdefault(path or "non_field_errors", [CONTROL_CHARACTERS])
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not _storable(key):
                errors.setdefault(path or "non_field_errors", [CONTROL_CHARACTERS])
                child = path
            _check_text(item, errors, child, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, errors, f"{path}.{index}" if path else str(index), depth + 1)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Strict JSON cannot carry a raw control character in a string, and decoded UTF-8 has no lone
# surrogates: NUL and surrogates reach parsed text only through \u escapes.
_NUL_OR_SURROGATE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _may_hold_unstorable_text(text: str) -> bool:
    """Whether the parsed body must be walked: it has an escape that may be NUL or a surrogate, or may nest
    deeper than 64 (a connector's ordinary alert has neither, and the walk was a twentieth of its post)."""
    return bool(_NUL_OR_SURROGATE_ESCAPE.search(text)) or text.count("[") + text.count("{") > 64


class StrictJSONParser(parsers.BaseParser):
    """JSON within the view's limit.

    Not a ``JSONParser`` subclass on purpose: DRF hands those ``request.body``, which Django caps
    at ``DATA_UPLOAD_MAX_MEMORY_SIZE`` whatever the view allows; this one reads the stream itself.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = body_limit(parser_context.get("view"))
        request = parser_context.get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise PayloadTooLarge(limit)
        if stream is None:
            return {}
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(limit)
        # DRF's check: only text encodings (a "bz2_codec" charset would expand a small body without bound).
        encoding = parsers.get_encoding(parser_context)
        try:
            text = raw.decode(encoding)
            data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
        except ParseError:
            raise
        except (ValueError, RecursionError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if not _may_hold_unstorable_text(text):
            return data
        errors: dict[str, list[str]] = {}
        _check_text(data, errors)
        if errors:
            raise Problem(422, "Text in the request holds NUL or unpaired surrogate characters; see errors.",
                          title="Unstorable text", type="control-characters", errors=errors)
        return data


class LimitedMultiPartParser(parsers.MultiPartParser):
    """Multipart through the request's upload handlers (the evidence view puts its hashing one first)."""
