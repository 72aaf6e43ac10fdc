"""What every endpoint module uses: the case lookup through the access rules, scope names, and the body of an action.

An action endpoint is the API's ``submit_form``: look the case (or its row) up, check the body with a
serializer, call one service as the token's user, answer with a serializer of the result. The services'
refusals become problem details in ``cases.api.problems``.
"""

from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.response import Response

from cases.access.lookups import get_case_for
from cases.models import ApiToken

READ_CASES = {"read": ApiToken.Scope.CASES_READ, "write": ApiToken.Scope.CASES_WRITE}


def case_for(request, reference: str, *, write: bool = False, queryset=None):
    """Return the case for the token's user: 404 if they may not know it, 403 if they may not change it."""
    return get_case_for(request.user, reference, write=write, queryset=queryset)


def row_for(request, reference: str, model, pk, *, write: bool = False, case_path: str = "case"):
    """Return the row ``pk`` of ``model`` on the case: the case's own answers first, then 404 for a row it lacks."""
    return get_object_or_404(model, pk=pk, **{case_path: case_for(request, reference, write=write)})


class CharField(serializers.CharField):
    """DRF's CharField, measuring ``max_length`` on the text as sent.

    DRF trims surrounding whitespace first (Python counts control characters such as U+001E as
    whitespace), so a string over the schema's ``maxLength`` could pass; the schema is the contract.
    """

    def to_internal_value(self, data):
        if self.max_length is not None and isinstance(data, str) and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


# Shows a model's rows: every field in ``Meta.fields`` is read-only, as only the services write rows.
# A comment, not a docstring: drf-spectacular would print a docstring on every schema component below it.
class ReadOnlyModelSerializer(serializers.ModelSerializer):
    def get_extra_kwargs(self):
        extra_kwargs = super().get_extra_kwargs()
        for name in self.Meta.fields:
            extra_kwargs.setdefault(name, {})["read_only"] = True
        return extra_kwargs


def valid_body(serializer_class, request) -> dict:
    """Return the request body as ``serializer_class`` validates it; an invalid body is a 400 problem."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def submit(request, service, body=None, **kwargs):
    """Call one service as the token's user with ``kwargs`` and the body checked by ``body``; return its result."""
    return service(by=request.user, **kwargs, **(valid_body(body, request) if body else {}))


def create_on_case(request, reference: str, service, *, body, answer) -> Response:
    """Answer a POST that adds a row to the case: 201 with the row as the ``answer`` serializer shows it.

    The case is looked up for writing before the body is read, so a refused caller learns nothing from
    a 400; the service gets the case and the checked body.
    """
    row = submit(request, service, body, case=case_for(request, reference, write=True))
    return Response(answer(row).data, status=status.HTTP_201_CREATED)
