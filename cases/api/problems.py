"""Every API error as RFC 9457 problem details (``application/problem+json``), never a 500 page.

The body is ``{"type", "title", "status", "detail"}``, plus ``errors`` (field → messages) for
invalid input and ``reasons`` (what to do first) for a refused action. Views raise DRF's own
exceptions, Django's ``Http404``/``PermissionDenied``, the services' ``ActionRefused``/``NotAllowed``
/``CaseChanged``, or ``Problem`` for anything else; ``exception_handler`` maps each.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://irt.invalid/problems/"  # a stable identifier, not a page (RFC 9457 §3.1.1)


class Problem(exceptions.APIException):
    """An error with its own status, title and optional extra members (``reasons``, ``errors``)."""

    def __init__(self, status_code: int, detail: str, *, title: str = "", type: str = "", **extra):
        self.status_code = status_code
        self.title = title
        self.type = type
        self.extra = extra
        super().__init__(detail)


class PayloadTooLarge(Problem):
    def __init__(self, limit: int):
        super().__init__(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            f"The request body is larger than this operation accepts ({limit:,} bytes).",
            title="Request body too large",
            type="too-large",
            limit=limit,
        )


TITLES = {
    400: ("Invalid request", "invalid-request"),
    401: ("Authentication required", "unauthenticated"),
    403: ("Not allowed", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    406: ("Not acceptable", "not-acceptable"),
    409: ("Conflict", "conflict"),
    413: ("Request body too large", "too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    422: ("Unprocessable request", "unprocessable"),
    429: ("Too many requests", "rate-limited"),
}


def problem_body(status_code: int, detail: str, *, title: str = "", type: str = "", **extra) -> dict:
    default_title, default_type = TITLES.get(status_code, ("Error", "error"))
    return {
        "type": TYPE_BASE + (type or default_type),
        "title": title or default_title,
        "status": status_code,
        "detail": detail,
        **extra,
    }


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": ["message", …]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for field, messages in _flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(field, []).extend(messages)
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


UNPROCESSABLE_CODES = {"does_not_exist"}


def _codes(codes) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_codes(value) for value in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_codes(value) for value in codes)) if codes else set()
    return {str(codes)}


def _to_problem(exc) -> tuple[int, dict, dict]:
    """Return (status, body, headers) for an exception."""
    headers = {}
    if isinstance(exc, Problem):
        return exc.status_code, problem_body(exc.status_code, str(exc.detail), title=exc.title, type=exc.type, **exc.extra), headers
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if _codes(exc.get_codes()) <= UNPROCESSABLE_CODES:
            # Well-formed, but naming something that does not exist: 422, so 400 always means
            # "does not match the schema" (what schemathesis's positive-data check relies on).
            return 422, problem_body(422, "The request names something that does not exist; see errors.",
                                     title="Unprocessable request", type="unknown-reference", errors=errors), headers
        return 400, problem_body(400, "The request has invalid fields; see errors.", type="validation", errors=errors), headers
    if isinstance(exc, exceptions.ParseError):
        return 400, problem_body(400, str(exc.detail), title="Malformed request body", type="malformed"), headers
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return 401, problem_body(401, str(exc.detail)), headers
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        return 429, problem_body(429, f"Rate limit reached for this token; retry in {wait} s.", retry_after=wait), headers
    if isinstance(exc, exceptions.APIException):
        code = exc.status_code
        return code, problem_body(code, str(exc.detail) if not isinstance(exc.detail, (dict, list)) else TITLES.get(code, ("Error",))[0]), headers
    if isinstance(exc, Http404):
        return 404, problem_body(404, str(exc) or "No such resource."), headers
    if isinstance(exc, CaseChanged):
        return 409, problem_body(409, str(exc), title="Case changed", type="case-changed"), headers
    if isinstance(exc, NotAllowed):
        return 403, problem_body(403, str(exc) or "Your role does not allow this action."), headers
    if isinstance(exc, PermissionDenied):
        return 403, problem_body(403, str(exc) or "You may not do this."), headers
    if isinstance(exc, ActionRefused):
        reasons = [str(reason) for reason in exc.reasons]
        return 409, problem_body(409, " ".join(reasons), title="Action refused", type="action-refused", reasons=reasons), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, problem_body(413, "The request body is larger than this operation accepts."), headers
    if isinstance(exc, TooManyFieldsSent):
        return 400, problem_body(400, "The request has too many fields."), headers
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return 400, problem_body(400, "The request has invalid fields; see errors.", type="validation", errors=errors), headers
    if isinstance(exc, SuspiciousOperation):
        return 400, problem_body(400, "The request was refused as malformed."), headers
    return 0, {}, headers


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: a problem response for every error, unknown ones included."""
    status_code, body, headers = _to_problem(exc)
    if not status_code:
        # Never a 500 page with a traceback: log it for the operators and say so plainly.
        logger.exception("Unhandled API error", exc_info=exc)
        status_code, body = 500, problem_body(500, "The server failed to handle this request; it has been logged.", title="Server error")
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    # Nothing was changed: the view's transaction (ATOMIC_REQUESTS-style) is rolled back by DRF
    # only for handled exceptions it knows, so roll back here for all of them.
    from rest_framework.views import set_rollback

    set_rollback()
    return response


def problem_response(status_code: int, detail: str, **extra) -> JsonResponse:
    """Return a problem response outside DRF (URL-level 404 under /api/, Django's 400/413)."""
    response = JsonResponse(problem_body(status_code, detail, **extra), status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def not_found(request, *args, **kwargs):
    # CSRF-exempt like every API view: a POST to an unknown path is a 404 problem, not a CSRF page.
    return problem_response(404, "There is no such API endpoint.")
